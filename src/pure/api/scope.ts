// Which guests an API caller may see and act on. util-vserver has no owners of guests (every guest
// is the host root's), so a scope is given where the caller is named: a token line of the TCP
// listener's tokens file lists guest names and name patterns. A caller without a list (root on
// the Unix socket, a token line without one, a client certificate) sees every guest.

/** A list entry: a guest name, or a pattern with `*` (any run of characters) and `?` (one). */
const ENTRY = /^[A-Za-z0-9._*?-]{1,63}$/;

export class Scope {
  /** Every guest: root, or a token without a list. */
  static readonly ALL = new Scope(undefined);

  private constructor(private readonly patterns: RegExp[] | undefined, readonly entries: string[] = []) {}

  /** A scope of these names and patterns, or the first entry that is neither. */
  static of(entries: string[]): Scope | { bad: string } {
    const bad = entries.find((e) => !ENTRY.test(e));
    if (bad !== undefined) return { bad };
    const re = (e: string) => new RegExp("^" + e.replace(/[.]/g, "\\.").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
    return new Scope(entries.map(re), entries);
  }

  /** Whether this scope is limited to some guests. */
  get limited(): boolean {
    return this.patterns !== undefined;
  }

  allows(guest: string | undefined): boolean {
    if (!this.patterns) return true;
    return !!guest && this.patterns.some((p) => p.test(guest));
  }

  /** The items of a list that concern guests of this scope. */
  filter<T>(items: T[], guestOf: (item: T) => string | undefined): T[] {
    return this.patterns ? items.filter((i) => this.allows(guestOf(i))) : items;
  }
}

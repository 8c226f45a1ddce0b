// util-vserver's setattr and showattr attributes, and what each has become: immutable (and our
// append-only) are the kernel's inode flags; the rest were the patched kernel's and are refused
// with the reason.

export type SettableAttr = "immutable" | "append";

export const REFUSED_ATTRS: Record<string, string> = {
  iunlink: "a unified file is no longer immutable-but-unlinkable: a guest's write or unlink copies it into the guest's own upper first (docs/unification.md), so there is nothing to set",
  "iunlink-but-not-immutable": "see iunlink: copy-on-write of unified files needs no flag",
  ixunlink: "see iunlink: copy-on-write of unified files needs no flag",
  cow: "copy-on-write is what every unified guest's overlay does for every file (docs/unification.md)",
  barrier: "the barrier is the mode 0000 of the directory of guest roots, which build and start set (docs/security.md), and pivot_root leaves no chroot to escape",
  admin: "/proc visibility is per guest, by its PID namespace and masked paths, not per entry",
  watch: "/proc visibility is per guest, by its PID namespace and masked paths, not per entry",
  hide: "/proc visibility is per guest, by its PID namespace and masked paths, not per entry",
  write: "/proc visibility is per guest, by its PID namespace and masked paths, not per entry",
};

export interface AttrChange {
  set: SettableAttr[];
  clear: SettableAttr[];
}

/** `--immutable`, `--~immutable`, `--!append`, ...: the changes, or the refusal of one attribute. */
export function parseAttrArgs(flags: string[]): AttrChange {
  const out: AttrChange = { set: [], clear: [] };
  for (const f of flags) {
    const m = /^--([~!]?)([a-z-]+)$/.exec(f);
    if (!m) throw new Error(`'${f}' is not an attribute flag (--ATTR, --~ATTR or --!ATTR)`);
    const name = m[2] === "immu" ? "immutable" : m[2]!;
    if (REFUSED_ATTRS[name]) throw new Error(`--${name}: ${REFUSED_ATTRS[name]}`);
    if (name !== "immutable" && name !== "append") throw new Error(`--${name}: not an attribute (immutable, append; util-vserver's others are refused with their reason)`);
    (m[1] ? out.clear : out.set).push(name);
  }
  return out;
}

/**
 * showattr's column: util-vserver's nine characters (admin, watch, hide, write, barrier,
 * iunlink, immutable, cow, xid), '-' where the attribute is gone, upper case for set, then ours
 * for append-only.
 */
export function formatAttrs(immutable: boolean, append: boolean): string {
  return `------${immutable ? "I" : "i"}--${append ? "A" : "a"}`;
}

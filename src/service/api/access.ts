// What a caller limited to some guests (pure/api/scope.ts) may reach, decided for every route
// from the scope class its definition declares (pure/api/schema.ts) before a handler runs, and
// for the answers of the routes that list guests. A guest outside the scope is answered as one
// that does not exist, a 404 with the same sentence whether it exists or not, so a caller learns
// no guest's name but its own; an operation that would reach guests it cannot name is refused
// with a 403.

import type { Scope } from "../../pure/api/scope";
import type { JournalEntry } from "../../drivers/journal-reader";
import type { AsyncOperation } from "./async-operations";
import type { GuestMetricsInput } from "./metrics";
import { problem, type Matched } from "./http";

/** The answer for a guest outside the scope: the same whether it exists or not. */
export function hiddenGuest(name: string): Response {
  return problem(404, `there is no guest '${name}' that this caller may see.`, "NotFoundError");
}

interface BuildFields {
  name: string;
  method: string;
  methodArgs?: string[];
  context?: unknown;
  interfaces?: unknown;
}

/** Build methods that take nothing from the host's files or other guests (clone, rsync, template, legacy and oci copy a tree or an archive the host has). */
const SCOPED_METHODS = ["busybox", "skeleton", "debootstrap"];

/**
 * What a scoped caller may not choose in a build: a method that copies from the host (another
 * guest's root, with rsync -s GUEST), debootstrap's mirror, script and options (a file:// mirror
 * or --unpack-tarball read the host's files; the script runs on the host), a context number or
 * addresses (the host's to give out; a clash would also name the guest that has them).
 */
function buildRefusal(b: BuildFields): Response | undefined {
  const refuse = (field: string, why: string) => problem(403, `body field '${field}': ${why}`, "ForbiddenError");
  if (!SCOPED_METHODS.includes(b.method)) return refuse("method", `a caller limited to some guests may build with ${SCOPED_METHODS.join(", ")} only; '${b.method}' copies files of the host's.`);
  const args = b.methodArgs ?? [];
  const suiteOnly = args.length === 0 || (b.method === "debootstrap" && args.length === 2 && (args[0] === "-d" || args[0] === "--dist"));
  if (!suiteOnly) return refuse("methodArgs", "a caller limited to some guests may give only debootstrap's '-d SUITE'; the mirror, script and options are the host administrator's.");
  if (b.context !== undefined) return refuse("context", "a caller limited to some guests gets a free context number; it may not choose one.");
  if (b.interfaces !== undefined) return refuse("interfaces", "a caller limited to some guests may not give a guest addresses; they are the host administrator's to give.");
  return undefined;
}

/** A refusal when the request reaches beyond the caller's guests; undefined to go on. */
export function admit(m: Matched, scope: Scope): Response | undefined {
  if (!scope.limited) return undefined;
  switch (m.def.scope) {
    case "open":
    case "filtered":
      return undefined;
    case "guest":
      return scope.allows(m.params.name) ? undefined : hiddenGuest(m.params.name!);
    case "newGuest": {
      const b = m.body as BuildFields;
      if (!scope.allows(b.name)) return problem(403, `body field 'name': this caller may build only guests its list names (${scope.entries.join(", ")}), not '${b.name}'.`, "ForbiddenError");
      return buildRefusal(b);
    }
    case "someGuests": {
      const b = m.body as { guests?: string[] };
      if (!b.guests) return problem(403, "body field 'select' would reach guests outside this caller's list; name its guests in 'guests' instead.", "ForbiddenError");
      const outside = b.guests.find((g) => !scope.allows(g));
      return outside === undefined ? undefined : hiddenGuest(outside);
    }
    case "host":
      return problem(403, `${m.def.method} ${m.def.path} acts on every guest; a caller limited to some guests may not use it.`, "ForbiddenError");
  }
}

/** Rows of a listing (guests, vserver-stat) a caller may see: its guests' (host rows have no name). */
export function visibleRows<T extends { name: string }>(scope: Scope, rows: T[]): T[] {
  return scope.filter(rows, (r) => r.name);
}

/** The guests and their usage a scrape shows a caller. */
export function visibleMetrics(scope: Scope, m: GuestMetricsInput): GuestMetricsInput {
  return { guests: visibleRows(scope, m.guests), stats: visibleRows(scope, m.stats) };
}

/** Journal events a caller may see: those of its guests (host events name no guest of its). */
export function visibleEvents(scope: Scope, evs: JournalEntry[]): JournalEntry[] {
  return scope.filter(evs, (e) => e.guest);
}

/** An asynchronous operation is visible when every guest it acts on is the caller's. */
export function operationVisible(scope: Scope, op: AsyncOperation): boolean {
  return !scope.limited || (op.guests.length > 0 && op.guests.every((g) => scope.allows(g)));
}

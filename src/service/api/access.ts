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
      const name = (m.body as { name: string }).name;
      return scope.allows(name) ? undefined : problem(403, `body field 'name': this caller may build only guests its list names (${scope.entries.join(", ")}), not '${name}'.`, "ForbiddenError");
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

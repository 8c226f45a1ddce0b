// A guest's id range at start: derived from its context (pure/id-range.ts), and refused when a
// host user's subordinate range (/etc/subuid, /etc/subgid) shares an id with it, since that user's
// rootless containers would then own the guest's files and processes; and refused when a user
// namespace on the host already maps one of its ids. Every state root numbers its guests from the
// same contexts, so without that check a guest of another root (another installation, a test
// root) with the same context would be the same host uids as this one: whatever got out of one
// guest would own the other's processes and files.

import { readFileSync } from "node:fs";
import { ConfigError } from "../errors";
import { contextsOverlapping, guestIdRange, overlappingRange, parseSubordinateIds, type IdRange, type SubordinateRange } from "../pure/id-range";
import { idsMappedOnHost } from "../drivers/id-maps";
import { settingFile, type GuestConfig } from "../pure/config/guest-config";

/** The host's own files: they describe host users, whatever the state root. */
export const SUBORDINATE_ID_FILES = ["/etc/subuid", "/etc/subgid"];

function subordinateRanges(file: string): SubordinateRange[] {
  try {
    return parseSubordinateIds(readFileSync(file, "utf8"));
  } catch {
    return [];
  }
}

/** Contexts that `build` does not hand out: their ids are a host user's subordinate ids. */
export function contextsOfHostUsers(files = SUBORDINATE_ID_FILES): Set<number> {
  return contextsOverlapping(files.flatMap(subordinateRanges));
}

export function guestIds(g: GuestConfig, context: number, files = SUBORDINATE_ID_FILES): IdRange {
  const range = guestIdRange(context);
  for (const file of files) {
    const clash = overlappingRange(range, subordinateRanges(file));
    if (clash) {
      const last = range.base + range.count - 1;
      throw new ConfigError(
        `the ids of guest '${g.name}' (context ${context}: host ids ${range.base}-${last}) overlap ${file} line ${clash.line} (${clash.owner}: ${clash.start}-${clash.start + clash.count - 1}); give the guest another context (${settingFile(g, "context")}) or move that range.`,
        { guest: g.name, file },
      );
    }
  }
  return range;
}

/** Contexts that `build` and a dynamic pick do not hand out: a user namespace on the host maps their ids. */
export function contextsMappedOnHost(): Set<number> {
  return contextsOverlapping(idsMappedOnHost());
}

/**
 * Refuses a range that a user namespace on the host already maps. Called once the guest's own
 * leftovers are cleared, so what is found belongs to something else: this root's running guests
 * were refused already by their context, so in practice another state root's guest.
 */
export function refuseIdsInUse(g: GuestConfig, context: number, range: IdRange): void {
  const clash = overlappingRange(range, idsMappedOnHost());
  if (!clash) return;
  const last = range.base + range.count - 1;
  throw new ConfigError(
    `the ids of guest '${g.name}' (context ${context}: host ids ${range.base}-${last}) are in use by process ${clash.pid}, in a user namespace outside this guest (another state root's guest?); give the guest another context (${settingFile(g, "context")}) or stop that one.`,
    { guest: g.name, file: settingFile(g, "context") },
  );
}

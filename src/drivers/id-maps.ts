// The host ids that user namespaces on this host map right now, read from /proc/PID/uid_map and
// gid_map of every process. A state root knows only its own guests; this is how it sees the
// ranges of every other one on the host (another installation's, another test root's), and of
// anything else that runs in a user namespace (rootless containers, sandboxes).

import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { parseIdMap, type IdSpan } from "../pure/id-range";
import { procStartTime } from "./proc-pid";

export interface MappedIds extends IdSpan {
  /** A process of the user namespace that maps these ids. */
  pid: number;
}

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Every range mapped by a user namespace other than the host's, once per namespace. */
export function idsMappedOnHost(): MappedIds[] {
  const out: MappedIds[] = [];
  const seen = new Set<string>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let ns: string;
    try {
      ns = readlinkSync(`/proc/${name}/ns/user`);
    } catch {
      continue; // gone since the listing
    }
    if (seen.has(ns)) continue;
    const pid = Number(name);
    // A zombie keeps its credentials, so its namespace, until its parent reaps it: a guest that
    // was just stopped may leave its PID 1 so for a moment, and it holds nothing any more.
    if (procStartTime(pid) === undefined) continue;
    seen.add(ns);
    for (const file of ["uid_map", "gid_map"]) {
      for (const span of parseIdMap(readOr(`/proc/${name}/${file}`) ?? "")) out.push({ ...span, pid });
    }
  }
  return out;
}

// A process's identity over time: its PID plus its start time (field 22 of /proc/PID/stat), so a
// PID that the kernel gave to another process since is not taken for the one we knew.

import { readFileSync } from "node:fs";

/** The start time of a live process; undefined when it is gone or a zombie. */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (f[0] === "Z" || f[0] === "X") return undefined;
    return f[19];
  } catch {
    return undefined;
  }
}

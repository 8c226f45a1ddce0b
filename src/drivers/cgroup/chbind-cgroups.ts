// The cgroup2 directories chbind attaches its programs to: <cgroup2>/<parent>/chbind-<pid>, one
// per invocation, named after the chbind process that owns it. Socket hooks exist only in
// cgroup2, so on hybrid hosts this is the cgroup2 mount beside the v1 controllers. Removing the
// directory releases the programs, so there is nothing else to clean up.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { ToolError } from "../../errors";
import { cgroupHost, type CgroupHost } from "./hierarchies";

const NAME_RE = /^chbind-(\d+)$/;

export function cgroup2Mount(host: CgroupHost = cgroupHost()): string {
  if (!host.unified) throw new ToolError("this host has no cgroup2 file system mounted; chbind attaches its programs there.");
  return host.unified.mount;
}

function tryRmdir(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch {
    // Busy (a process or a daemon started by the command is still inside) or already gone.
    return false;
  }
}

/**
 * Remove the directories of chbind runs that are over: their owner is gone (it ended, or was
 * killed with -9 before it could clean up) and no process is left inside. A directory with
 * processes stays: a daemon the command started keeps its binding until it exits.
 */
export function sweepStale(parentDir: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(parentDir);
  } catch {
    return removed;
  }
  for (const n of names) {
    const m = NAME_RE.exec(n);
    if (!m || Number(m[1]) === process.pid || existsSync(`/proc/${m[1]}`)) continue;
    if (tryRmdir(`${parentDir}/${n}`)) removed.push(n);
  }
  return removed;
}

/** Create this run's directory (and the parent). A concurrent run may remove an empty parent: retry. */
export function createOwn(parentDir: string): string {
  const dir = `${parentDir}/chbind-${process.pid}`;
  // A directory of a previous process that had our PID: ours now, and empty unless a daemon lives there.
  if (existsSync(dir) && !tryRmdir(dir)) throw new ToolError(`${dir} exists and still holds processes; it belongs to an earlier run with this PID.`);
  for (let i = 0; ; i++) {
    try {
      mkdirSync(parentDir, { recursive: true });
      mkdirSync(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT" || i >= 5) throw e;
    }
  }
}

/** Remove this run's directory, then the parent if nothing else uses it. False if processes remain. */
export function removeOwn(dir: string): boolean {
  const ok = tryRmdir(dir);
  tryRmdir(dir.slice(0, dir.lastIndexOf("/")));
  return ok;
}

/** Our cgroup2 path, to come back to after the child is born inside dir. */
export function ownCgroup2Path(): string {
  const line = readFileSync("/proc/self/cgroup", "latin1").split("\n").find((l) => l.startsWith("0::"));
  return line ? line.slice(3) : "/";
}

/** Move this whole process into a cgroup2 directory; its next child is born there. */
export function moveSelfTo(dir: string): void {
  writeFileSync(`${dir}/cgroup.procs`, String(process.pid));
}

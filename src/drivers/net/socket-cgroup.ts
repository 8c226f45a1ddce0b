// The cgroup2 directory that carries the socket programs of a guest on the host's stack: the
// guest's own cgroup path in the cgroup2 tree, <cgroup2>/<parent>/<context>. Socket hooks exist
// only in cgroup2. On pure v2 hosts, and with runc, the runtime puts the guest's processes there
// itself; crun on a hybrid host runs with cgroup2 hidden (docs/runtime.md), so every process it
// starts for the guest (PID 1 and each exec) must be born there: its command is prefixed with a
// join (joinCgroupArgv). A socket's cgroup is fixed when the socket is made, so joining later
// would be too late. Removing the directory (guest-cgroups.ts, at teardown) frees the programs.

import { existsSync, mkdirSync, rmdirSync } from "node:fs";
import { ToolError } from "../../errors";
import { cgroupHost } from "../cgroup/hierarchies";
import { loadAndAttach, type LoadableProgram } from "../bpf/loader";

/** The directory for a guest's cgroup path, or undefined on a host without cgroup2. */
export function socketCgroupDir(cgroupPath: string): string | undefined {
  const unified = cgroupHost().unified;
  return unified ? `${unified.mount}${cgroupPath}` : undefined;
}

/** The directory if a guest has one (it is made only for guests on the host's stack). */
export function existingSocketCgroup(cgroupPath: string): string | undefined {
  const dir = socketCgroupDir(cgroupPath);
  return dir && existsSync(dir) ? dir : undefined;
}

/**
 * Make the directory and attach the programs; nothing is left behind if that fails. A leftover
 * of a killed start (empty, with its programs) is removed first, so programs are never doubled.
 */
export function createSocketCgroup(dir: string, programs: readonly LoadableProgram[]): void {
  if (existsSync(dir)) {
    try {
      rmdirSync(dir);
    } catch {
      throw new ToolError(`${dir} exists and still holds processes; it is left from an earlier guest with this context.`);
    }
  }
  mkdirSync(dir, { recursive: true });
  try {
    loadAndAttach(dir, programs);
  } catch (e) {
    rmdirSync(dir);
    throw e;
  }
}

/**
 * argv that first moves itself into the directory, then becomes argv (same PID, so the runtime
 * and all it starts are born inside). The script is fixed; the directory and argv are only its
 * positional parameters, never parsed by the shell. It must run where cgroup2 is visible: before
 * entering crun's view. The shell's path is absolute for callers that execv() it.
 */
export function joinCgroupArgv(dir: string, argv: string[]): string[] {
  return ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, ...argv];
}

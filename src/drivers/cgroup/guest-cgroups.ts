// The cgroups of guests: /<parent>/<context> in every hierarchy. We create only the parent's
// children through the runtime (and a systemd guest's own, drivers/cgroup/systemd-hierarchy.ts),
// and remove the parent ourselves when the last guest is gone; cgroups we did not create are
// never touched, except those a guest made below its own.

import { readdirSync, readFileSync, rmdirSync, writeFileSync, existsSync } from "node:fs";
import { ConfigError } from "../../errors";
import { cgroupHost, hierarchyFor, type CgroupHost } from "./hierarchies";

export function guestCgroupPath(parent: string, context: number): string {
  return `/${parent}/${context}`;
}

/** Every directory that holds this cgroup path, in the hierarchies that the host view shows. */
export function cgroupDirs(path: string, host: CgroupHost = cgroupHost()): string[] {
  return host.hierarchies.map((h) => `${h.mount}${path}`).filter((d) => existsSync(d));
}

/**
 * Remove a guest's leftover cgroup directories (after the runtime is done with them) and the
 * parent if empty. A dead PID 1 stays in its cgroup until the host's init reaps it, which may
 * take a moment: the leaf is retried briefly before giving up.
 */
export async function removeGuestCgroups(parent: string, context: number | undefined, host: CgroupHost = cgroupHost()): Promise<void> {
  const dirs = guestCgroupDirs(parent, context ?? 0, host);
  if (context !== undefined) {
    for (let i = 0; i < 20; i++) {
      const left = dirs.leaves.filter((d) => existsSync(d));
      left.forEach(removeCgroupTree);
      if (!left.some((d) => existsSync(d))) break;
      await Bun.sleep(50);
    }
  }
  dirs.parents.forEach(tryRmdir);
}

/** A guest's cgroup directory in every hierarchy, and our parent directory in each. */
export function guestCgroupDirs(parent: string, context: number, host: CgroupHost = cgroupHost()): { leaves: string[]; parents: string[] } {
  return {
    leaves: host.hierarchies.map((h) => `${h.mount}${guestCgroupPath(parent, context)}`),
    parents: host.hierarchies.map((h) => `${h.mount}/${parent}`),
  };
}

/** A cgroup with those below it (a guest's own systemd makes them), deepest first; each goes only when empty. */
function removeCgroupTree(dir: string): void {
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeCgroupTree(`${dir}/${e.name}`);
  } catch {}
  tryRmdir(dir);
}

function tryRmdir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Busy (processes or children left) or already gone: both mean "not ours to remove now".
  }
}

/** Write cgroup/<file> settings into the guest's cgroup, in the hierarchy of the file's controller. */
export function writeCgroupFiles(path: string, files: Array<[string, string]>, cfgDir: string, host: CgroupHost = cgroupHost()): void {
  for (const [name, value] of files) {
    const controller = name.split(".")[0]!;
    const h = hierarchyFor(host, controller);
    const file = `${cfgDir}/cgroup/${name}`;
    if (!h) throw new ConfigError(`${file}: this host has no '${controller}' cgroup controller.`, { file });
    try {
      writeFileSync(`${h.mount}${path}/${name}`, value);
    } catch (e) {
      throw new ConfigError(`${file}: the kernel refused '${value}' for ${name}: ${(e as Error).message}`, { file });
    }
  }
}

/** Context numbers that have a cgroup under our parent (running guests, or leftovers). */
export function contextsWithCgroups(parent: string, host: CgroupHost = cgroupHost()): number[] {
  const set = new Set<number>();
  for (const h of host.hierarchies) {
    try {
      for (const d of readdirSync(`${h.mount}/${parent}`)) if (/^\d+$/.test(d)) set.add(Number(d));
    } catch {}
  }
  return [...set].sort((a, b) => a - b);
}

/** The cgroup.procs file that lists a cgroup's processes: the pids or first v1 hierarchy's, or the v2 tree's. */
export function procsFile(path: string, host: CgroupHost = cgroupHost()): string | undefined {
  const h = hierarchyFor(host, "pids") ?? host.hierarchies[0];
  return h ? `${h.mount}${path}/cgroup.procs` : undefined;
}

/** PIDs in a guest's cgroup (from the pids or first v1 hierarchy, or the v2 tree). */
export function cgroupPids(path: string, host: CgroupHost = cgroupHost()): number[] {
  const file = procsFile(path, host);
  if (!file) return [];
  try {
    return readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

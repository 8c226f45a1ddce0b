// The cgroup a guest whose own init is systemd manages itself. On cgroup v1 and hybrid hosts
// systemd 252 runs in its "legacy" mode, in which the name=systemd hierarchy is the one it must
// write: it makes a cgroup below its own for each unit and moves the unit's processes there. The
// guest gets its own directory of that hierarchy, and only that one, writable; the controllers'
// hierarchies (memory, pids, cpu, devices) stay read-only, so its limits stay the host's.

import { chownSync, mkdirSync, readdirSync } from "node:fs";
import { cgroupHost, type CgroupHost, type Hierarchy } from "./hierarchies";

/** The host's name=systemd hierarchy, if it has one (a pure cgroup v2 host has none). */
export function systemdHierarchy(host: CgroupHost = cgroupHost()): Hierarchy | undefined {
  return host.hierarchies.find((h) => h.version === 1 && h.controllers.includes("name=systemd"));
}

/**
 * Make the guest's name=systemd cgroup before the runtime does (the runtime uses one that exists)
 * and give the directory and its files to the guest's root, `owner` (its host uid and gid), when
 * the guest has a user namespace: its root is otherwise an unmapped stranger to files of the
 * host's root. The kernel gives the cgroups systemd makes below it to their maker. Returns the
 * directory's host path.
 */
export function delegateSystemdCgroup(h: Hierarchy, path: string, owner: number | undefined): string {
  const dir = `${h.mount}${path}`;
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (owner !== undefined) {
    chownSync(dir, owner, owner);
    for (const f of readdirSync(dir, { withFileTypes: true })) if (f.isFile()) chownSync(`${dir}/${f.name}`, owner, owner);
  }
  return dir;
}

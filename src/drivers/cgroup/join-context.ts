// Cgroups for a context that no runtime made (chcontext): /<parent>/<n> in the hierarchies a
// process can join without setup (cpuset is left out: a fresh cpuset has no CPUs until written),
// and moving the calling process in and back out, so that its next child is born inside.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cgroupHost, type CgroupHost, type Hierarchy } from "./hierarchies";

function joinable(host: CgroupHost): Hierarchy[] {
  return host.hierarchies.filter((h) => (h.version === 2 ? host.layout === "v2" : !h.controllers.includes("cpuset")));
}

/** Our own cgroup path in each hierarchy, to return to. */
export function ownCgroups(host: CgroupHost = cgroupHost()): Map<Hierarchy, string> {
  const lines = readFileSync("/proc/self/cgroup", "latin1").split("\n");
  const out = new Map<Hierarchy, string>();
  for (const h of joinable(host)) {
    const key = h.version === 2 ? "" : h.controllers.join(",");
    const line = lines.find((l) => {
      const [, ctrls] = l.split(":");
      if (h.version === 2) return l.startsWith("0::");
      return ctrls !== undefined && ctrls.split(",").sort().join(",") === key.split(",").sort().join(",");
    });
    if (line) out.set(h, line.slice(line.indexOf(":", line.indexOf(":") + 1) + 1));
  }
  return out;
}

export function createContextCgroups(path: string, host: CgroupHost = cgroupHost()): void {
  for (const h of joinable(host)) mkdirSync(`${h.mount}${path}`, { recursive: true });
}

/** Move this whole process (all its threads) into path, in every joinable hierarchy. */
export function moveSelf(path: string | Map<Hierarchy, string>, host: CgroupHost = cgroupHost()): void {
  for (const h of joinable(host)) {
    const p = typeof path === "string" ? path : path.get(h);
    if (p === undefined) continue;
    writeFileSync(`${h.mount}${p === "/" ? "" : p}/cgroup.procs`, String(process.pid));
  }
}

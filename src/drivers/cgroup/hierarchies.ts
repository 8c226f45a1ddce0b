// The host's cgroup layout, read from /proc/self/mountinfo. Real hosts come in three shapes: pure
// v2, pure v1, and hybrid (v1 controllers with a cgroup2 tree beside them, as on this project's
// CI machines). Everything that touches cgroup files goes through the hierarchies found here.

import { readFileSync } from "node:fs";

export interface Hierarchy {
  /** Mount point, e.g. /sys/fs/cgroup/memory or /sys/fs/cgroup. */
  mount: string;
  version: 1 | 2;
  /** v1: the controllers mounted there (name=systemd included); v2: those enabled at the root. */
  controllers: string[];
}

export type CgroupLayout = "v2" | "v1" | "hybrid";

export interface CgroupHost {
  layout: CgroupLayout;
  hierarchies: Hierarchy[];
  /** The cgroup2 mount, if any. */
  unified?: Hierarchy;
}

let cached: CgroupHost | undefined;

export function parseMountinfoCgroups(mountinfo: string, readControllers: (mount: string) => string[]): CgroupHost {
  const hierarchies: Hierarchy[] = [];
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(" ");
    const right = line.slice(sep + 3).split(" ");
    const fstype = right[0];
    const mount = left[4]?.replace(/\\040/g, " ");
    if (!mount) continue;
    if (fstype === "cgroup2") {
      hierarchies.push({ mount, version: 2, controllers: readControllers(mount) });
    } else if (fstype === "cgroup") {
      const opts = (right[2] ?? "").split(",");
      const ctrls = opts.filter((o) => !["rw", "ro", "relatime", "noatime", "nosuid", "nodev", "noexec", "clone_children", "xattr", "nsdelegate", "noprefix"].includes(o) && !o.startsWith("release_agent") && !o.startsWith("cpuset_v2"));
      hierarchies.push({ mount, version: 1, controllers: ctrls });
    }
  }
  // A mount point shadowed by a later mount (our own hidden view) counts once, as the last one.
  const byMount = new Map<string, Hierarchy>();
  for (const h of hierarchies) byMount.set(h.mount, h);
  const list = [...byMount.values()];
  const unified = list.find((h) => h.version === 2);
  const v1 = list.filter((h) => h.version === 1);
  let layout: CgroupLayout;
  if (v1.length === 0) layout = "v2";
  else if (unified && unified.controllers.length > 0) layout = "hybrid";
  else layout = "v1";
  return { layout, hierarchies: list, unified };
}

export function cgroupHost(): CgroupHost {
  if (cached) return cached;
  const mi = readFileSync("/proc/self/mountinfo", "utf8");
  cached = parseMountinfoCgroups(mi, (m) => {
    try {
      return readFileSync(`${m}/cgroup.controllers`, "utf8").trim().split(/\s+/).filter(Boolean);
    } catch {
      return [];
    }
  });
  return cached;
}

/** The hierarchy holding a controller's files ("memory" for memory.max or memory.limit_in_bytes). */
export function hierarchyFor(host: CgroupHost, controller: string): Hierarchy | undefined {
  if (host.layout === "v2") return host.unified;
  return host.hierarchies.find((h) => h.version === 1 && h.controllers.includes(controller));
}

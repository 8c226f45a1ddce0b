// crun 1.8 refuses hybrid cgroup hosts ("cgroups in hybrid mode not supported") when the cgroup2
// tree carries any controller. We do not change the host's cgroup setup; instead crun runs in a
// persistent mount namespace of ours where a plain directory of ours is bound over the cgroup2
// mount, so crun sees a pure v1 host. The namespace is kept (as a bind-mounted nsfs file, like `ip netns`) while any
// guest exists, because every crun call for a container must see the same view, and released
// when the last guest stops. Measured cost of entering it: ~1 ms (nsenter), against ~4 ms for a
// fresh namespace per call (docs/runtime.md).

import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { ToolError } from "../../errors";
import { run } from "../process";
import { ensurePrivateMount, releasePrivateMount } from "../private-mount";
import type { CgroupHost } from "../cgroup/hierarchies";

export interface ViewPaths {
  /** Directory made a private mount of its own, holding the namespace file. */
  dir: string;
  file: string;
  /**
   * What the view shows at the cgroup2 mount point. crun (legacy mode) still writes
   * <cgroupsPath>/cgroup.procs there as plain files and never removes them; being ours and on the
   * host's side, teardown removes each guest's (a tmpfs of fixed size filled up after 256 starts).
   */
  shadow: string;
}

export function viewPaths(runtimeStateDir: string): ViewPaths {
  const dir = `${runtimeStateDir}/ns`;
  return { dir, file: `${dir}/cgroup-v1-view`, shadow: `${runtimeStateDir}/cgroup2-shadow` };
}

/** Where crun writes for one guest in the shadow of the cgroup2 mount, and the parent above it; null for a path we never remove. */
export function shadowEntries(v: ViewPaths, cgroupPath: string): { entry: string; parent: string } | null {
  const rel = cgroupPath.replace(/^\/+/, "");
  if (!rel || rel.split("/").includes("..")) return null;
  return { entry: `${v.shadow}/${rel}`, parent: `${v.shadow}/${rel.split("/")[0]}` };
}

/** Remove what crun wrote for one guest into the shadow of the cgroup2 mount, and its parent if empty. */
export function forgetInView(v: ViewPaths, cgroupPath: string): void {
  const e = shadowEntries(v, cgroupPath);
  if (!e) return;
  rmSync(e.entry, { recursive: true, force: true });
  try {
    rmdirSync(e.parent);
  } catch {}
}

export function needsHiddenView(host: CgroupHost, runtime: string): boolean {
  return runtime === "crun" && host.layout === "hybrid";
}

function mountPoints(): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const mp = line.split(" ")[4];
    if (mp) out.add(mp.replace(/\\040/g, " "));
  }
  return out;
}

export function viewIsLive(v: ViewPaths): boolean {
  return mountPoints().has(v.file);
}

/** Make sure the view exists; returns the argv prefix that runs a program inside it. */
export function ensureView(v: ViewPaths, unifiedMount: string): string[] {
  const prefix = ["nsenter", `--mount=${v.file}`, "--"];
  const mps = mountPoints();
  if (mps.has(v.file)) return prefix;
  mkdirSync(v.dir, { recursive: true, mode: 0o700 });
  ensurePrivateMount(v.dir);
  if (!existsSync(v.file)) writeFileSync(v.file, "");
  // Slave propagation: our bind never reaches the host. Host mounts made later reach this view
  // only where the host's mount is shared (systemd hosts); on hosts whose / is private (this
  // project's CI VM) they do not, so anything mounted later that the runtime must see (a guest's
  // network namespace file) is mounted into the view as well (drivers/net/netns.ts).
  mkdirSync(v.shadow, { recursive: true, mode: 0o755 });
  const r = run(["unshare", `--mount=${v.file}`, "--propagation", "slave", "mount", "--bind", v.shadow, unifiedMount]);
  if (r.code !== 0) {
    releaseView(v);
    throw new ToolError(`cannot prepare the runtime's cgroup view (a mount namespace hiding ${unifiedMount}): ${r.stderr.trim()}`);
  }
  return prefix;
}

/** Drop the view; only called when no guest exists. */
export function releaseView(v: ViewPaths): void {
  if (mountPoints().has(v.file)) run(["umount", v.file]);
  rmSync(v.file, { force: true });
  rmSync(v.shadow, { recursive: true, force: true });
  releasePrivateMount(v.dir);
  try {
    rmdirSync(v.dir);
  } catch {}
}

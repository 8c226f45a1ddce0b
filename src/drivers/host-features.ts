// What this host's kernel and tools really support, for `vserver-info - FEATURE`: util-vserver's
// feature names mapped onto today's equivalents, plus the facts an admin asks about first (cgroup
// version and controllers, user namespaces, seccomp, the runtime). Probed from /proc and /sys
// only, no programs run.

import { existsSync, readFileSync } from "node:fs";
import { cgroupHost } from "./cgroup/hierarchies";
import { which } from "./process";

export interface Feature {
  name: string;
  supported: boolean;
  detail: string;
}

function read(p: string): string {
  try {
    return readFileSync(p, "latin1").trim();
  } catch {
    return "";
  }
}

export function hostFeatures(runtimeInUse: string | undefined): Feature[] {
  const host = cgroupHost();
  const ctrls = new Set<string>();
  for (const h of host.hierarchies) for (const c of h.controllers) ctrls.add(c);
  if (host.unified) for (const c of read(`${host.unified.mount}/cgroup.controllers`).split(/\s+/).filter(Boolean)) ctrls.add(c);
  const has = (c: string) => ctrls.has(c);
  const ns = (n: string) => existsSync(`/proc/self/ns/${n}`);
  const userns = Number(read("/proc/sys/user/max_user_namespaces") || "0") > 0 && ns("user");
  const seccompLine = /Seccomp:\s+(\d+)/.test(read("/proc/self/status"));
  const seccompFilter = read("/proc/sys/kernel/seccomp/actions_avail").includes("kill_process") || seccompLine;
  const freezer = has("freezer") || (host.layout === "v2");
  const rts = ["crun", "runc"].filter((r) => which(r));
  const f = (name: string, supported: boolean, detail: string): Feature => ({ name, supported, detail });
  const list: Feature[] = [
    f("CGROUP", host.hierarchies.length > 0, `layout ${host.layout}`),
    f("CGROUP1", host.hierarchies.some((h) => h.version === 1), host.hierarchies.filter((h) => h.version === 1).map((h) => h.mount).join(" ")),
    f("CGROUP2", !!host.unified, host.unified ? `${host.unified.mount} (${host.unified.controllers.join(" ") || "no controllers"})` : ""),
    f("CGROUP_HYBRID", host.layout === "hybrid", ""),
    ...["cpu", "cpuacct", "cpuset", "memory", "pids", "freezer", "blkio", "io", "devices", "hugetlb"].map((c) => f(`CGROUP_${c.toUpperCase()}`, has(c), "")),
    f("USERNS", userns, `max_user_namespaces ${read("/proc/sys/user/max_user_namespaces") || "0"}`),
    f("SECCOMP", seccompFilter, read("/proc/sys/kernel/seccomp/actions_avail")),
    f("RUNTIME", !!runtimeInUse, runtimeInUse ?? "none installed"),
    f("RUNTIME_CRUN", rts.includes("crun"), runtimeInUse === "crun" ? "in use" : ""),
    f("RUNTIME_RUNC", rts.includes("runc"), runtimeInUse === "runc" ? "in use" : ""),
    // util-vserver's names (lib/issupportedstring.c), answered by what replaces them here.
    f("VKILL", true, freezer ? "atomic (freezer)" : "signal loop, not atomic"),
    f("VWAIT", true, "cgroup empties"),
    f("MIGRATE", ns("pid") && ns("mnt"), "setns"),
    f("NAMESPACE", ns("mnt"), "mount namespaces"),
    f("PIDSPACE", ns("pid"), "PID namespaces"),
    f("SPACES", ns("pid") && ns("uts") && ns("ipc") && ns("mnt"), ["pid", "uts", "ipc", "mnt", "net", "cgroup", "user", "time"].filter(ns).join(" ")),
    f("VNET", ns("net"), "network namespaces"),
    f("VHI", ns("uts"), "UTS namespaces"),
    f("MEMCG", has("memory"), ""),
    f("RLIMIT", has("pids") || has("memory"), "cgroup limits"),
    f("SCHED", has("cpu"), "cpu weight"),
    f("VSTAT", true, "/proc scan"),
    f("VINFO", true, ""),
    f("PIVOT_ROOT", true, ""),
    f("DYNAMIC", true, "contexts from 49152"),
    f("IATTR", false, "no VServer inode attributes"),
    f("COMPAT", false, "no legacy 2.4 interface"),
    f("VSHELPER", false, "guest reboot ends its PID namespace"),
    f("PERSISTENT", false, ""),
    f("BME", false, ""),
    f("PPTAG", false, ""),
  ];
  return list;
}

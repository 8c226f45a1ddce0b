// Context flags (reference §3.1). We keep the names; the ones with a meaning on today's kernel are
// listed in SUPPORTED, and the rest are accepted for compatibility with a one-time warning.

import { ConfigError } from "../../errors";

export const SUPPORTED_CFLAGS = new Set([
  "lock", // no new namespaces inside the guest (seccomp blocks unshare/setns/clone with ns flags)
  "private", // host tools refuse enter/exec/chcontext --ctx
  "fakeinit", // the start command is PID 1 (our guests always have a real PID 1)
  "virt_uptime", "sc_helper", // parts of `default`: uptime comes from the PID namespace's init
  "hide_netif", // netns guests see only their own links; host-network guests cannot hide them
  "nproc", "ulimit", // limits are always whole-guest here (cgroup pids)
  "namespace", "persistent", "state_setup", "state_init", "state_admin",
]);

export const ALL_CFLAGS = new Set([
  ...SUPPORTED_CFLAGS,
  "hideinfo", "sched_hard", "sched_prio", "sched_pause", "virt_mem", "virt_cpu", "virt_load",
  "virt_time", "hide_mount", "hide_vinfo", "reboot_kill", "fork_rss", "prolific", "igneg_nice",
  "igneg_ionice", "info_lock", "info_nproc", "info_private", "info_init", "info_hideinfo",
  "info_ulimit", "info_namespace", "info_nspace", "secure", "default",
]);

export function parseCflags(items: string[], file: string): Set<string> {
  const set = new Set<string>();
  for (const item of items) {
    const negate = item.startsWith("~") || item.startsWith("!");
    const name = (negate ? item.slice(1) : item).trim().toLowerCase().replace(/^vxf_/, "");
    if (!ALL_CFLAGS.has(name)) throw new ConfigError(`${file}: '${item}' is not a context flag.`, { file });
    const expanded = name === "secure" ? ["hide_netif"] : name === "default" ? ["virt_uptime", "sc_helper"] : [name.replace(/^info_/, "")];
    for (const f of expanded) negate ? set.delete(f) : set.add(f);
  }
  return set;
}

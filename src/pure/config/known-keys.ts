// Which files of a guest's config directory this version understands. Anything else that
// util-vserver documents is reported once, naming the file, instead of being silently ignored.

import type { ConfigTree } from "./tree";

export interface ConfigWarning {
  file: string;
  message: string;
}

/** Exact files and directory prefixes (ending in "/") that are read. */
const SUPPORTED = [
  "name", "context", "vdir", "run", "cache", "bcapabilities", "cflags", "flags", "nice", "shell",
  "fstab", "legacy", "noisy", "ncontext", "tag", "interfaces/", "uts/nodename", "uts/domainname",
  "uts/context", "rlimits/nproc", "rlimits/rss", "rlimits/as", "ulimits/", "cgroup/", "sysctl/",
  "spaces/net", "spaces/pid", "scripts/", "apps/init/style", "apps/init/runlevel",
  "apps/init/runlevel.start", "apps/init/runlevel.stop", "apps/init/killseq", "apps/init/cmd.start",
  "apps/init/cmd.stop", "apps/init/cmd.prepare", "apps/init/environment", "apps/init/mark",
  "apps/init/depends", "apps/vunify/", "security/", "sched/priority-bias", "sched/fill-rate", "sched/interval", "net/", "nflags",
  "ncapabilities", "apps/build/", "personality", "uts/machine", "ccapabilities",
];

/** Files util-vserver knows that have no equivalent yet, with the reason shown to the user. */
const UNSUPPORTED: Array<[string, string]> = [
  ["capabilities", "the 2.4-kernel capability API is gone; use bcapabilities"],
  ["umask", "namespace unshare masks are not applied; the 'lock' flag and seccomp decide"],
  ["ionice/", "I/O priority is not applied yet"],
  ["badness", "the OOM bias is not applied yet"],
  ["schedule", "the deprecated schedule file is not read; use sched/fill-rate and sched/interval, or cgroup/cpu.shares"],
  ["sched/", "the token bucket's size and idle-time rate have no cgroup equivalent; fill-rate/interval (a CPU cap) and priority-bias (a CPU weight) are mapped"],
  ["rlimits/", "only rlimits/nproc, rlimits/rss and rlimits/as have a whole-guest equivalent"],
  ["uts/sysname", "only nodename and domainname can be set per guest"],
  ["uts/release", "only nodename and domainname can be set per guest"],
  ["uts/version", "only nodename and domainname can be set per guest"],
  ["fstab.remote", "remote mounts are not done yet"],
  ["fstab.local", "fstab.local is obsolete; move its lines to fstab"],
  ["cpuset/", "cpusets are not applied yet; use cgroup/cpuset.cpus"],
  ["dlimits/", "disk limits are not applied yet"],
  ["netns/", "use interfaces/ (docs/networking.md)"],
  ["apps/vshelper/", "there is no vshelper: a guest's reboot and halt reach its init (or the kernel's reboot watch for a plain guest)"],
  ["apps/vdevmap/", "device maps are not applied; guests get a fixed minimal /dev"],
  ["apps/init/cmd.start-sync", "sync commands are not run"],
  ["apps/init/cmd.stop-sync", "sync commands are not run"],
  ["apps/init/sync", "sync commands are not run"],
  ["apps/init/tty", "--defaulttty is not supported"],
  ["apps/init/mtab", "/etc/mtab is left to the guest"],
  ["keepfds", "file descriptors are never passed into a guest"],
  ["namespace", "every guest has its own mount namespace"],
  ["nonamespace", "every guest has its own mount namespace"],
  ["namespace-cleanup", "every guest has its own mount namespace"],
  ["nonamespace-cleanup", "every guest has its own mount namespace"],
  ["namespace-cleanup-skip", "every guest has its own mount namespace"],
  ["spaces/", "only spaces/net and spaces/pid are understood"],
  ["hostname", "the top-level hostname file is obsolete; use uts/nodename"],
  ["domainname", "the top-level domainname file is obsolete; use uts/domainname"],
];

function matches(rel: string, key: string): boolean {
  return key.endsWith("/") ? rel.startsWith(key) : rel === key;
}

export function unsupportedWarnings(tree: ConfigTree, cfgDir: string): ConfigWarning[] {
  const out: ConfigWarning[] = [];
  const reported = new Set<string>();
  for (const [rel, entry] of tree) {
    if (entry.kind === "dir") continue;
    if (SUPPORTED.some((k) => matches(rel, k))) continue;
    const hit = UNSUPPORTED.find(([k]) => matches(rel, k));
    const key = hit?.[0] ?? rel;
    if (reported.has(key)) continue;
    reported.add(key);
    out.push({
      file: `${cfgDir}/${rel}`,
      message: hit ? `not supported: ${hit[1]}` : "not a setting this version knows; it is ignored",
    });
  }
  return out;
}

// Every file of a guest's config directory that this version knows, in one table. It drives:
//   - which settings may fall back to /etc/vservers/.defaults (guest-config.ts),
//   - the warning for a file util-vserver knows but we do not apply, or do not know at all
//     (known-keys.ts),
//   - the tables of docs/configuration.md (settings-doc.ts writes them; a unit test fails when
//     the document and this table disagree).
// A key ending in "/" covers every file below that directory. Reading a key that has no row here
// is a programming error (settingRow throws), so a new setting cannot be parsed without being
// documented.

export interface ReadSetting {
  key: string;
  status: "read";
  /** false: the file describes one guest and is never taken from .defaults. */
  fromDefaults: boolean;
  /** Markdown, one line: what the file means and what values it takes. */
  meaning: string;
  /** Markdown: the value when the file is absent; "" when absence means nothing is done. */
  default: string;
  /** Documented elsewhere (a doc under docs/), so configuration.md links there instead. */
  seeAlso?: string;
  /** `KEY.hard` and `KEY.soft` are read as well (the first of KEY, .hard, .soft that exists wins). */
  hardSoft?: boolean;
  /** Accepted without a warning but read by no one here (kept for compatibility); not in the table of docs. */
  silent?: boolean;
}

export interface UnsupportedSetting {
  key: string;
  status: "unsupported";
  /** Why it has no effect here, shown to the user once per command. */
  reason: string;
}

export type Setting = ReadSetting | UnsupportedSetting;

const read = (key: string, meaning: string, dflt = "", more: Partial<ReadSetting> = {}): ReadSetting =>
  ({ key, status: "read", fromDefaults: true, meaning, default: dflt, ...more });
const own = (key: string, meaning: string, dflt = ""): ReadSetting => read(key, meaning, dflt, { fromDefaults: false });
const silent = (key: string): ReadSetting => read(key, "", "", { silent: true });
const unsupported = (key: string, reason: string): UnsupportedSetting => ({ key, status: "unsupported", reason });

export const SETTINGS: readonly Setting[] = [
  own("context", "the context number (2–49151); names the guest's cgroup and picks its ids on the host (context × 65536 onward, checked against `/etc/subuid` and `/etc/subgid`)",
    "allocated by `build` from 40000 (`.defaults/context.next` raises the start); a guest without one gets a dynamic number from 49152 at start"),
  own("vdir", "(link) the guest root", "`/vservers/NAME`"),
  own("name", "the guest's name", "the directory name"),
  own("uts/nodename", "hostname in the guest's UTS namespace: at most 64 letters, digits, `-`, `_` and `.`, starting with a letter or digit (no spaces, control characters or non-ASCII)", "the name"),
  own("uts/domainname", "NIS domain name in the guest's UTS namespace, same characters as `uts/nodename`", "none"),
  read("bcapabilities", "capabilities added to util-vserver's whitelist; `~CAP`/`!CAP` removes, `all`, `none`",
    "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID NET_BIND_SERVICE SYS_CHROOT SYS_TTY_CONFIG (not SYS_PTRACE: docs/security.md) LEASE SETFCAP AUDIT_WRITE"),
  read("cflags", "context flags (also read from `flags`); `lock` (no new namespaces inside, whatever the capabilities), `private` (exec/enter refused); the others are accepted for compatibility", "none"),
  read("flags", "the older name of `cflags`, read when `cflags` is absent"),
  read("rlimits/nproc", "processes in the whole guest (cgroup `pids.max`), 1 to 4194304; `inf` for none. `0` (which the runtime would read as no limit) and `-1` are refused", "4096", { hardSoft: true }),
  read("rlimits/rss", "memory of the whole guest, in pages of 4 KiB (the smaller of `rss` and `as` wins), from 1; `inf` for none, `0` refused", "half of the host's memory", { hardSoft: true }),
  read("rlimits/as", "as `rlimits/rss`", "", { hardSoft: true }),
  read("ulimits/", "`ulimits/RES[.hard|.soft]`: per-process rlimits (cpu data fsize locks memlock nofile nproc rss stack core as msgqueue nice rtprio sigpending), given to the guest's init and to exec and enter; `0` is a real limit here (`core` 0: no core files), `inf` or `-1` for none", "inherited"),
  read("nice", "nice level of the guest's processes; also sets the CPU weight when `cgroup/cpu.shares` is absent", "0"),
  read("cgroup/", "`cgroup/CONTROLLER.SETTING`: written to the guest's cgroup before its first process runs; `cgroup/cpu.shares` is the CPU weight (2–262144)", "`cpu.shares` 1024"),
  read("sched/priority-bias", "mapped onto a CPU weight (`vsched --prio-bias` changes it live)"),
  read("sched/fill-rate", "with `sched/interval`: a hard CPU cap of fill-rate/interval of each CPU, as util-vserver's token bucket gave (cgroup `cpu.max`, or the CFS quota per 100 ms on a v1 host); `vsched` changes it live", "no cap"),
  read("sched/interval", "see `sched/fill-rate`"),
  read("ccapabilities", "context capabilities that a Linux capability in the guest's user namespace covers are read as it: `set_rlimit` and `oom_adjust` → SYS_RESOURCE, `raw_icmp` → NET_RAW (`~` removes); the others (mounts, `set_utsname`, xattrs, `syslog`, ...) are reported with the reason", "none"),
  read("personality", "first line `linux32` (or `linux_32bit`) or `linux`: the 32-bit personality, under which the host shows its 32-bit machine; flags on further lines are reported and not applied", "linux"),
  read("uts/machine", "the machine `uname` shows: the host's own, or its 32-bit one (`i686`/`i386`... on x86_64, `armv8l` on aarch64) through the 32-bit personality; another fails the start naming the file", "the host's"),
  own("sysctl/", "`sysctl/X/{setting,value}`: namespaced sysctls set in the guest"),
  read("fstab", "mounts at start (a mount the runtime refuses fails the start naming the fstab file and line), targets inside the guest: `proc`, `tmpfs`, `devpts`, and `none ... bind[,ro]` of host directories (done by the runtime inside the guest's mount namespace, without following the guest's symlinks out of its root; idmapped for a guest in a user namespace, so the guest sees their usual owners)",
    "`/proc` proc, `/tmp` tmpfs 16m, `/dev/pts` devpts"),
  own("spaces/net", "own network namespace with loopback only (`0` disables)", "the host's network"),
  read("spaces/pid", "accepted: every guest has its own PID namespace", "own PID namespace"),
  read("shell", "the shell of `enter`", "`/bin/bash -login`, else `/bin/sh -l`"),
  read("apps/init/style", "`sysv`, `plain`, `minit`, `gentoo`, `openrc`, `arch` (see below)", "sysv"),
  read("apps/init/runlevel", "runlevel of the rc script at start and (unless `runlevel.start` is set) its argument", "3"),
  read("apps/init/runlevel.start", "runlevel of the rc script at start", "3 (`default` for gentoo and openrc)"),
  read("apps/init/runlevel.stop", "runlevel of the rc script at stop", "6"),
  read("apps/init/cmd.start", "one argv element per line, replacing the style's start command"),
  read("apps/init/cmd.stop", "one argv element per line, replacing the style's stop command"),
  read("apps/init/cmd.prepare", "one argv element per line, run in the guest before its start command"),
  read("apps/init/killseq", "`signal [wait signal]...`, one token per line (numbers or names)", "`15 5 9`"),
  read("apps/init/environment", "`VAR=VAL` lines for the guest's processes", "`PATH=/usr/local/sbin:...:/bin`"),
  own("apps/init/mark", "the guest's group for `start-vservers` (below)"),
  own("apps/init/depends", "guest names, one per line: the guests it needs first (`start-vservers`, below)"),
  read("interfaces/", "the guest's addresses and network mode", "", { fromDefaults: false, seeAlso: "docs/networking.md" }),
  read("scripts/", "`scripts/FLAVOUR`, `scripts/FLAVOUR.d/*`: hooks (below)", "`.defaults/scripts/`"),
  read("security/seccomp", "`default` or `unconfined`", "default"),
  read("security/abstract-sockets", "for a guest on the host's stack: `refused` (no abstract unix socket at all, the host's or its own) or `scoped` (its own processes' only, through a Landlock scope; Linux 6.12, our guest init, no_new_privs; what `exec` sessions lose is in docs/networking.md)", "refused"),
  own("security/allow-new-privileges", "exists: no_new_privs is not set (setuid programs regain privileges)", "no_new_privs on"),
  own("security/privileged", "exists: the guest runs without a user namespace of its own, and its root is the host's uid 0 (with the capability whitelist). For guests that need it (a nested runtime, say); what it costs is in docs/security.md",
    "own user namespace, ids from context × 65536"),
  read("apps/vunify/exclude", "paths whose content hashify and `vunify` keep with the guest instead of sharing it through the store: one fnmatch pattern a line, from the guest's root (`*` crosses `/`); the first match decides, `+PATTERN` unifies, `-PATTERN`, `~PATTERN` or a bare one keeps; below a kept directory everything is kept",
    "util-vserver's list: `/dev`, `/etc/*` (but `/etc/termcap`, `/etc/gconf`), `/home`, `/root/*`, `/tmp`, `/var`, `/proc`, `/sys`, `/mnt`, `/selinux`, `/.rpmdb`, `/*/ls-R`", { seeAlso: "docs/unification.md" }),
  own("apps/vunify/", "the reference guests of unification (kept for `vunify`)"),
  own("dlimits/", "util-vserver's per-directory disk limits (`dlimits/NAME/{directory,space_total,inodes_total,reserved}`): read, and a start with them says why this host cannot apply them (project quotas or btrfs qgroups), never a silent pass (docs/unification.md)"),
  own("apps/build/", "how the guest was built (kept for `build` and `clone`)"),
  silent("run"),
  silent("cache"),
  silent("legacy"),
  silent("noisy"),
  silent("ncontext"),
  silent("tag"),
  silent("uts/context"),
  silent("net/"),
  silent("nflags"),
  silent("ncapabilities"),

  unsupported("capabilities", "the 2.4-kernel capability API is gone; use bcapabilities"),
  unsupported("umask", "namespace unshare masks are not applied; the 'lock' flag and seccomp decide"),
  unsupported("ionice/", "I/O priority is not applied yet"),
  unsupported("badness", "the OOM bias is not applied yet"),
  unsupported("schedule", "the deprecated schedule file is not read; use sched/fill-rate and sched/interval, or cgroup/cpu.shares"),
  unsupported("sched/", "the token bucket's size and idle-time rate have no cgroup equivalent; fill-rate/interval (a CPU cap) and priority-bias (a CPU weight) are mapped"),
  unsupported("rlimits/", "only rlimits/nproc, rlimits/rss and rlimits/as have a whole-guest equivalent"),
  unsupported("uts/sysname", "only nodename and domainname can be set per guest"),
  unsupported("uts/release", "only nodename and domainname can be set per guest"),
  unsupported("uts/version", "only nodename and domainname can be set per guest"),
  unsupported("fstab.remote", "remote mounts are not done yet"),
  unsupported("fstab.local", "fstab.local is obsolete; move its lines to fstab"),
  unsupported("cpuset/", "cpusets are not applied yet; use cgroup/cpuset.cpus"),
  unsupported("netns/", "use interfaces/ (docs/networking.md)"),
  unsupported("apps/vshelper/", "there is no vshelper: a guest's reboot and halt reach its init (or the kernel's reboot watch for a plain guest)"),
  unsupported("apps/vdevmap/", "device maps are not applied; guests get a fixed minimal /dev"),
  unsupported("apps/init/cmd.start-sync", "sync commands are not run"),
  unsupported("apps/init/cmd.stop-sync", "sync commands are not run"),
  unsupported("apps/init/sync", "sync commands are not run"),
  unsupported("apps/init/tty", "--defaulttty is not supported"),
  unsupported("apps/init/mtab", "/etc/mtab is left to the guest"),
  unsupported("keepfds", "file descriptors are never passed into a guest"),
  unsupported("namespace", "every guest has its own mount namespace"),
  unsupported("nonamespace", "every guest has its own mount namespace"),
  unsupported("namespace-cleanup", "every guest has its own mount namespace"),
  unsupported("nonamespace-cleanup", "every guest has its own mount namespace"),
  unsupported("namespace-cleanup-skip", "every guest has its own mount namespace"),
  unsupported("spaces/", "only spaces/net and spaces/pid are understood"),
  unsupported("hostname", "the top-level hostname file is obsolete; use uts/nodename"),
  unsupported("domainname", "the top-level domainname file is obsolete; use uts/domainname"),
];

function covers(s: Setting, rel: string): boolean {
  if (s.key.endsWith("/")) return rel.startsWith(s.key);
  return rel === s.key || (s.status === "read" && s.hardSoft === true && (rel === `${s.key}.hard` || rel === `${s.key}.soft`));
}

/**
 * The row that governs `rel`: an exact key before a directory's, and a read directory before an
 * unsupported one (so `rlimits/nproc` is read while the rest of `rlimits/` is reported).
 */
export function settingFor(rel: string): Setting | undefined {
  const hits = SETTINGS.filter((s) => covers(s, rel));
  return hits.find((s) => !s.key.endsWith("/")) ?? hits.find((s) => s.status === "read") ?? hits[0];
}

/** The row of a setting the parser reads; a key without a row is a bug in the parser. */
export function readSetting(rel: string): ReadSetting {
  const s = settingFor(rel);
  if (s?.status !== "read") throw new Error(`internal: config key '${rel}' is read but has no row in pure/config/settings.ts`);
  return s;
}

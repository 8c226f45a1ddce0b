// Every file of a guest's config directory that this version knows, in one table. It drives:
//   - which settings may fall back to /etc/vservers/.defaults (guest-config.ts),
//   - the warning for a file util-vserver knows but we do not apply, or do not know at all
//     (known-keys.ts),
//   - the tables of docs/configuration.md, the files this version reads and every file
//     util-vserver documents with its state here (settings-doc.ts writes them; a unit test fails
//     when the document and these tables disagree).
// The files below interfaces/NN/ and those of /etc/vservers/.defaults have tables of their own
// at the end.
// A key ending in "/" covers every file below that directory. Reading a key that has no row here
// is a programming error (settingRow throws), so a new setting cannot be parsed without being
// documented.

/**
 * What this version does with a file util-vserver documents. works: as in util-vserver; mapped:
 * the same intent on today's kernel; partial: some of its values apply; reported: named in a
 * warning, not done yet; not applicable: what it configured does not exist here.
 */
export type SettingState = "works" | "mapped" | "partial" | "reported" | "not applicable";

interface SettingCommon {
  key: string;
  /** Default: "works" for a read file, "not applicable" for the others. */
  state?: SettingState;
  /** Markdown: how it compares to util-vserver, for the table of every util-vserver setting (default: the meaning or the reason). */
  compat?: string;
  /** A file of this project's own, not util-vserver's: left out of that table. */
  project?: boolean;
}

export interface ReadSetting extends SettingCommon {
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

export interface UnsupportedSetting extends SettingCommon {
  status: "unsupported";
  /** Why it has no effect here, shown to the user once per command. */
  reason: string;
}

export type Setting = ReadSetting | UnsupportedSetting;

const read = (key: string, meaning: string, dflt = "", more: Partial<ReadSetting> = {}): ReadSetting =>
  ({ key, status: "read", fromDefaults: true, meaning, default: dflt, ...more });
const own = (key: string, meaning: string, dflt = "", more: Partial<ReadSetting> = {}): ReadSetting => read(key, meaning, dflt, { fromDefaults: false, ...more });
/** Accepted without effect and without a warning. */
const silent = (key: string, compat: string, state: SettingState = "not applicable"): ReadSetting => read(key, "", "", { silent: true, compat, state });
const unsupported = (key: string, reason: string, more: Partial<UnsupportedSetting> = {}): UnsupportedSetting => ({ key, status: "unsupported", reason, ...more });
/** Not done yet, and said so when present. */
const notYet = (key: string, reason: string, compat?: string): UnsupportedSetting => unsupported(key, reason, { state: "reported", ...(compat ? { compat } : {}) });

export const SETTINGS: readonly Setting[] = [
  own("context", "the context number (2–49151); names the guest's cgroup and picks its ids on the host (context × 65536 onward, checked against `/etc/subuid` and `/etc/subgid`)",
    "allocated by `build` from 40000 (`.defaults/context.next` raises the start); a guest without one gets a dynamic number from 49152 at start; both skip numbers whose ids a user namespace on the host maps (another state root's running guest)",
    { state: "mapped", compat: "the guest's number: names its cgroup (`/vservers/N`) and picks its id range (N × 65536); a missing one gets a dynamic number at start" }),
  own("vdir", "(link) the guest root", "`/vservers/NAME`", { compat: "link to the guest root; `/vservers/NAME`" }),
  own("name", "the guest's name", "the directory name", { compat: "the guest's name; default the directory's" }),
  own("uts/nodename", "hostname in the guest's UTS namespace: at most 64 letters, digits, `-`, `_` and `.`, starting with a letter or digit (no spaces, control characters or non-ASCII)", "the name", { compat: "UTS namespace" }),
  own("uts/domainname", "NIS domain name in the guest's UTS namespace, same characters as `uts/nodename`", "none", { compat: "UTS namespace" }),
  read("bcapabilities", "capabilities added to util-vserver's whitelist; `~CAP`/`!CAP` removes, `all`, `none`",
    "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID NET_BIND_SERVICE SYS_CHROOT SYS_TTY_CONFIG (not SYS_PTRACE: docs/security.md) LEASE SETFCAP AUDIT_WRITE",
    { compat: "util-vserver's secure whitelist (without SYS_BOOT, SYS_PTRACE; docs/security.md), `~`/`!` removes, `all`, `none`" }),
  read("cflags", "context flags (also read from `flags`); `lock` (no new namespaces inside, whatever the capabilities), `private` (exec/enter refused); the others are accepted for compatibility", "none",
    { state: "partial", compat: "`lock` (no new namespaces) and `private` (no exec/enter) apply; flags whose effect namespaces give anyway are accepted; the rest are named in a warning (\"not supported on this kernel and has no effect\"), and `hide_netif` on a guest sharing the host's network too" }),
  read("flags", "the older name of `cflags`, read when `cflags` is absent", "", { state: "partial", compat: "as `cflags`" }),
  read("rlimits/nproc", "processes in the whole guest (cgroup `pids.max`), 1 to 4194304; `inf` for none. `0` (which the runtime would read as no limit) and `-1` are refused", "4096", { hardSoft: true, state: "mapped", compat: "cgroup `pids.max` of the whole guest" }),
  read("rlimits/rss", "memory of the whole guest, in pages of 4 KiB (the smaller of `rss` and `as` wins), from 1; `inf` for none, `0` refused", "half of the host's memory", { hardSoft: true, state: "mapped", compat: "cgroup memory limit of the whole guest (pages; the smaller of `rss` and `as` wins)" }),
  read("rlimits/as", "as `rlimits/rss`", "", { hardSoft: true, state: "mapped", compat: "as `rlimits/rss`" }),
  read("ulimits/", "`ulimits/RES[.hard|.soft]`: per-process rlimits (cpu data fsize locks memlock nofile nproc rss stack core as msgqueue nice rtprio sigpending), given to the guest's init and to exec and enter; `0` is a real limit here (`core` 0: no core files), `inf` or `-1` for none", "inherited",
    { compat: "per-process rlimits of every process of the guest" }),
  read("nice", "nice level of the guest's processes; also sets the CPU weight when `cgroup/cpu.shares` is absent", "0"),
  read("cgroup/", "`cgroup/CONTROLLER.SETTING`: written to the guest's cgroup before its first process runs; `cgroup/cpu.shares` is the CPU weight (2–262144)", "`cpu.shares` 1024",
    { compat: "written into the guest's cgroup before its first process runs; `cpu.shares` is mapped onto the CPU weight (cpu.weight on a v2 host, as crun converts it); `cgroup/name` is taken as a cgroup file like any other (the guest's cgroup is always `/vservers/CONTEXT`)" }),
  read("sched/priority-bias", "mapped onto a CPU weight (`vsched --prio-bias` changes it live)", "", { state: "mapped", compat: "a CPU weight" }),
  read("sched/fill-rate", "with `sched/interval`: a hard CPU cap of fill-rate/interval of each CPU, as util-vserver's token bucket gave (cgroup `cpu.max`, or the CFS quota per 100 ms on a v1 host); `vsched` changes it live", "no cap",
    { state: "mapped", compat: "a CPU cap of fill-rate/interval of each CPU (cgroup quota); `vsched` changes it live" }),
  read("sched/interval", "see `sched/fill-rate`", "", { state: "mapped", compat: "see `sched/fill-rate`" }),
  read("ccapabilities", "context capabilities that a Linux capability in the guest's user namespace covers are read as it: `set_rlimit` and `oom_adjust` → SYS_RESOURCE, `raw_icmp` → NET_RAW (`~` removes); the others (mounts, `set_utsname`, xattrs, `syslog`, ...) are reported with the reason", "none",
    { state: "mapped", compat: "`set_rlimit`, `oom_adjust` → SYS_RESOURCE, `raw_icmp` → NET_RAW; the others reported with the reason (they need CAP_SYS_ADMIN or the host's rights)" }),
  read("personality", "first line `linux32` (or `linux_32bit`) or `linux`: the 32-bit personality, under which the host shows its 32-bit machine; flags on further lines are reported and not applied", "linux",
    { state: "mapped", compat: "`linux32` → the runtime's LINUX32 personality; flags reported" }),
  read("uts/machine", "the machine `uname` shows: the host's own, or its 32-bit one (`i686`/`i386`... on x86_64, `armv8l` on aarch64) through the 32-bit personality; another fails the start naming the file", "the host's",
    { state: "mapped", compat: "the host's own machine, or its 32-bit one through the LINUX32 personality" }),
  own("sysctl/", "`sysctl/X/{setting,value}`: namespaced sysctls set in the guest", "", { compat: "namespaced sysctls only" }),
  read("fstab", "mounts at start (a mount the runtime refuses fails the start naming the fstab file and line), targets inside the guest: `proc`, `tmpfs`, `devpts`, and `none ... bind[,ro]` of host directories (done by the runtime inside the guest's mount namespace, without following the guest's symlinks out of its root; idmapped for a guest in a user namespace, so the guest sees their usual owners)",
    "`/proc` proc, `/tmp` tmpfs 16m, `/dev/pts` devpts", { compat: "mounts at start, in the guest's mount namespace, bind mounts idmapped" }),
  own("spaces/net", "own network namespace with loopback only (`0` disables)", "the host's network", { compat: "own network namespace with loopback only (`0`: none)" }),
  read("spaces/pid", "accepted: every guest has its own PID namespace", "own PID namespace", { state: "not applicable", compat: "accepted: every guest has its own PID namespace already" }),
  read("shell", "the shell of `enter`", "`/bin/bash -login`, else `/bin/sh -l`", { compat: "`enter`'s shell" }),
  read("apps/init/style", "`sysv`, `plain`, `minit`, `gentoo`, `openrc`, `arch` (see below)", "sysv", { compat: "sysv, plain, minit, gentoo, openrc, arch" }),
  read("apps/init/runlevel", "runlevel of the rc script at start and (unless `runlevel.start` is set) its argument", "3"),
  read("apps/init/runlevel.start", "runlevel of the rc script at start", "3 (`default` for gentoo and openrc)"),
  read("apps/init/runlevel.stop", "runlevel of the rc script at stop", "6"),
  read("apps/init/cmd.start", "one argv element per line, replacing the style's start command"),
  read("apps/init/cmd.stop", "one argv element per line, replacing the style's stop command"),
  read("apps/init/cmd.prepare", "one argv element per line, run in the guest before its start command"),
  read("apps/init/killseq", "`signal [wait signal]...`, one token per line (numbers or names)", "`15 5 9`"),
  read("apps/init/environment", "`VAR=VAL` lines for the guest's processes", "`PATH=/usr/local/sbin:...:/bin`"),
  own("apps/init/mark", "the guest's group for `start-vservers` (below)", "", { compat: "`start-vservers`, the boot integration above" }),
  own("apps/init/depends", "guest names, one per line: the guests it needs first (`start-vservers`, below)", "", { compat: "`start-vservers`, the boot integration above" }),
  read("interfaces/", "the guest's addresses and network mode", "", { fromDefaults: false, seeAlso: "docs/networking.md", compat: "each file below has its row in the `interfaces/` table" }),
  read("scripts/", "`scripts/FLAVOUR`, `scripts/FLAVOUR.d/*`: hooks (below)", "`.defaults/scripts/`",
    { compat: "`scripts/FLAVOUR`, `scripts/FLAVOUR.d/*` for `initialize`, `prepre-start`, `pre-start`, `post-start`, `pre-stop`, `post-stop`, `postpost-stop`; non-executable scripts run with `/bin/sh` instead of being sourced, so variables they set do not carry over, and `DONT_SKIP_DEFAULTS` has no effect (see Hooks)" }),
  read("security/seccomp", "`default` or `unconfined`", "default", { project: true }),
  read("security/abstract-sockets", "for a guest on the host's stack: `refused` (no abstract unix socket at all, the host's or its own) or `scoped` (its own processes' only, through a Landlock scope; Linux 6.12, our guest init, no_new_privs; what `exec` sessions lose is in docs/networking.md)", "refused", { project: true }),
  own("security/allow-new-privileges", "exists: no_new_privs is not set (setuid programs regain privileges)", "no_new_privs on", { project: true }),
  own("security/privileged", "exists: the guest runs without a user namespace of its own, and its root is the host's uid 0 (with the capability whitelist). For guests that need it (a nested runtime, say); what it costs is in docs/security.md",
    "own user namespace, ids from context × 65536", { project: true }),
  read("apps/vunify/exclude", "paths whose content hashify and `vunify` keep with the guest instead of sharing it through the store: one fnmatch pattern a line, from the guest's root (`*` crosses `/`); the first match decides, `+PATTERN` unifies, `-PATTERN`, `~PATTERN` or a bare one keeps; below a kept directory everything is kept",
    "util-vserver's list: `/dev`, `/etc/*` (but `/etc/termcap`, `/etc/gconf`), `/home`, `/root/*`, `/tmp`, `/var`, `/proc`, `/sys`, `/mnt`, `/selinux`, `/.rpmdb`, `/*/ls-R`", { seeAlso: "docs/unification.md", compat: "util-vserver's list and matching rules; excluded files are kept whole with the guest, never shared (docs/unification.md)" }),
  own("apps/vunify/", "the reference guests of unification (kept for `vunify`)", "", { state: "mapped", compat: "the reference guests of `vunify`; unification shares files through an overlay store (docs/unification.md)" }),
  own("dlimits/", "util-vserver's per-directory disk limits (`dlimits/NAME/{directory,space_total,inodes_total,reserved}`): `space_total` (KiB) of the guest's root is set at start as a btrfs qgroup limit on the root's subvolume; where that cannot be, start says why, never a silent pass (docs/unification.md)", "",
    { state: "partial", compat: "`space_total` of the whole root, as a btrfs qgroup limit; `inodes_total`, `reserved` and directories below the root are warned about; no project quotas (Disk limits, above)" }),
  own("apps/build/", "how the guest was built (kept for `build` and `clone`); `apps/build/oci/image` and `config.json`: the image an `oci` guest came from and its configuration (docs/build.md#oci)", "", { compat: "`apps/build/options`: default `build` options (in `.defaults`)" }),
  silent("run", "the run record is always `/run/vservers/NAME` (JSON); a `run` link is accepted, not followed", "mapped"),
  silent("cache", "link; `/var/cache/vservers/NAME`", "works"),
  silent("legacy", "accepted without effect: a guest with only a legacy `NAME.conf` is used as it is, or converted (`vserver NAME convert`)"),
  silent("noisy", "accepted without effect: every step goes to the guest's log anyway"),
  silent("ncontext", "accepted without effect: the network context is the guest's network namespace, which has no number of its own"),
  silent("tag", "accepted without effect: files carry no context tag (no `dlimits` by tag); ownership comes from the id range"),
  silent("uts/context", "internal to util-vserver (it wrote the cfgdir there); accepted without effect"),
  silent("net/", "accepted without effect: the older name of the network settings; `interfaces/` holds them"),
  silent("nflags", "accepted without effect: flags of the VServer network context; a guest's network namespace and the cgroup-BPF hooks decide (docs/networking.md)"),
  silent("ncapabilities", "accepted without effect: capabilities of the VServer network context; a guest's network namespace and the cgroup-BPF hooks decide (docs/networking.md)"),

  unsupported("capabilities", "the 2.4-kernel capability API is gone; use bcapabilities"),
  unsupported("umask", "namespace unshare masks are not applied; the 'lock' flag and seccomp decide"),
  notYet("ionice/", "I/O priority is not applied yet", "not applied yet (an I/O weight through the io/blkio controller would be the mapping)"),
  notYet("badness", "the OOM bias is not applied yet", "not applied yet (`oom_score_adj` of the guest's processes would be the mapping)"),
  notYet("schedule", "the deprecated schedule file is not read; use sched/fill-rate and sched/interval, or cgroup/cpu.shares", "deprecated in util-vserver too; use `sched/`"),
  unsupported("sched/", "the token bucket's size and idle-time rate have no cgroup equivalent; fill-rate/interval (a CPU cap) and priority-bias (a CPU weight) are mapped"),
  unsupported("rlimits/", "only rlimits/nproc, rlimits/rss and rlimits/as have a whole-guest equivalent"),
  unsupported("uts/sysname", "only nodename and domainname can be set per guest"),
  unsupported("uts/release", "only nodename and domainname can be set per guest"),
  unsupported("uts/version", "only nodename and domainname can be set per guest"),
  notYet("fstab.remote", "remote mounts are not done yet"),
  unsupported("fstab.local", "fstab.local is obsolete; move its lines to fstab"),
  notYet("cpuset/", "cpusets are not applied yet; use cgroup/cpuset.cpus"),
  unsupported("netns/", "use interfaces/ (docs/networking.md)"),
  unsupported("apps/vshelper/", "there is no vshelper: a guest's reboot and halt reach its init (or the kernel's reboot watch for a plain guest)"),
  unsupported("apps/vshelper-methods/", "there is no vshelper: a guest's reboot and halt reach its init (or the kernel's reboot watch for a plain guest)"),
  unsupported("apps/pkgmgmt/", "the guest's own package tools run inside it (vapt-get, vrpm, vyum); nothing is externalised"),
  unsupported("noncontext", "a guest without interfaces/ or spaces/net already uses the host's network"),
  unsupported("nocgroup", "every guest has its cgroup, /vservers/CONTEXT"),
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

/**
 * The files of an entry of interfaces/ (interfaces/NN/FILE; at the top of interfaces/ they are
 * defaults for every entry). pure/config/interfaces.ts reads the `read` ones and reports the
 * others with their text.
 */
export interface InterfaceFiles {
  files: readonly string[];
  status: "read" | "unsupported";
  state: SettingState;
  /** Markdown for the docs; for an unsupported file, also the warning's reason. */
  text: string;
  project?: boolean;
}

export const INTERFACE_FILES: readonly InterfaceFiles[] = [
  { files: ["ip", "prefix", "mask", "dev", "nodev", "only_ip", "bcast", "name", "scope", "disabled"], status: "read", state: "works",
    text: "docs/networking.md: an address in the guest's own namespace (routed, bridge, macvlan) or on the host's stack (shared)" },
  { files: ["mode", "gateway"], status: "read", state: "works", project: true, text: "the network mode, and a default route for bridge or macvlan guests (docs/networking.md)" },
  { files: ["lback"], status: "unsupported", state: "mapped", text: "the guest's loopback address is derived from its context (docs/networking.md); lback is not read" },
  { files: ["vlandev"], status: "unsupported", state: "reported", text: "VLAN devices are not created; create the VLAN device on the host and name it in dev" },
  { files: ["novlandev"], status: "unsupported", state: "reported", text: "VLAN devices are not created" },
  { files: ["down"], status: "unsupported", state: "reported", text: "every guest interface is brought up" },
  { files: ["tun", "tap"], status: "unsupported", state: "reported", text: "tun/tap devices are not created for guests" },
  { files: ["peer"], status: "unsupported", state: "reported", text: "point-to-point peers are not supported" },
  { files: ["indirect"], status: "unsupported", state: "reported", text: "dummy-interface mode is not supported" },
  { files: ["nocsum", "shared", "uid", "gid", "linktype", "mac", "extip"], status: "unsupported", state: "reported", text: "not done yet (docs/networking.md)" },
];

/** The row of a file of an interfaces/ entry, or undefined for a file util-vserver never had. */
export function interfaceFile(file: string): InterfaceFiles | undefined {
  return INTERFACE_FILES.find((r) => r.files.includes(file));
}

/**
 * The files of /etc/vservers/.defaults/ that are not a guest's settings (those fall back as the
 * table above says), for the docs: what util-vserver had there and what this version does.
 */
export const DEFAULTS_FILES: readonly { files: readonly string[]; state: SettingState; text: string }[] = [
  { files: ["vdirbase", "cachebase"], state: "works", text: "links moving new guest roots and caches" },
  { files: ["run.rev"], state: "not applicable", text: "the run records answer \"which guest is context N\"" },
  { files: ["context.next"], state: "works", text: "where allocation starts" },
  { files: ["context.dynamic"], state: "not applicable", text: "a guest without `context` always gets a dynamic one at start" },
  { files: ["apps/debootstrap/mirror"], state: "works", text: "the mirror of the debootstrap build method" },
  { files: ["apps/debootstrap/uri", "apps/debootstrap/options"], state: "not applicable", text: "not read: debootstrap is a Debian package; its options go after `build ... --`" },
  { files: ["apps/vlogin/disable"], state: "not applicable", text: "`enter` always gives a fresh pty (docs/security.md)" },
  { files: ["apps/vprocunhide/files"], state: "not applicable", text: "`/proc` is the guest's own PID namespace's, with a fixed list of masked paths" },
  { files: ["interfaces/vlandev"], state: "reported", text: "not read yet" },
  { files: ["files/resolv.conf"], state: "works", text: "copied into new guests" },
  { files: ["files/hosts", "files/nsswitch.conf", "files/krb5.conf", "files/krb.conf", "files/krb.realms", "files/ldap.conf", "files/localtime"], state: "reported", text: "not copied yet (only `resolv.conf` is)" },
  { files: ["cgroup/mnt", "cgroup/subsys", "cgroup/inherit", "cgroup/name", "cgroup/base", "cgroup/per-ss"], state: "not applicable", text: "cgroups are found from `/proc/self/mountinfo`; every guest's is `/vservers/CONTEXT`" },
  { files: ["runtime"], state: "works", text: "(project addition) `crun` or `runc`" },
  { files: [".distributions/"], state: "not applicable", text: "build methods take their data from the distribution's own tools (debootstrap)" },
];

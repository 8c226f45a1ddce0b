// Builds the OCI runtime config (config.json) of a guest from its config. Pure: every fact about
// the host that matters is passed in as RuntimeFacts.

import { toOciNames } from "../config/capabilities";
import type { GuestConfig } from "../config/guest-config";
import type { FstabEntry } from "../config/fstab";
import { defaultSeccomp } from "./seccomp";
import { personalityDomain } from "../config/personality";
import { CPU_PERIOD_US, cpuQuotaUs } from "../sched";
import { GUEST_INIT_PATH } from "../guest-init";
import type { IdRange } from "../id-range";

export interface RuntimeFacts {
  /** Absolute cgroup path, the same in every hierarchy: /<parent>/<context>. */
  cgroupsPath: string;
  /** Host path of our static guest init, bind-mounted as PID 1 for the init styles that run scripts. */
  guestInitPath: string;
  /** Host memory in bytes, for the default memory limit. */
  hostMemoryBytes: number;
  /** uname -m. */
  arch: string;
  /** The host's CPUs, for a CPU cap given per CPU (sched/fill-rate); 1 when absent. */
  cpus?: number;
  /** Path of a network namespace prepared for the guest, if it has its own. */
  netnsPath?: string;
  /** PID 1's argv. */
  args: string[];
  /**
   * The guest's own id range, for a guest in its own user namespace (g.userNamespace), and the
   * idmapped mount of its root that shows its files through that range (drivers/idmapped-root.ts).
   */
  ids?: { range: IdRange; root: string; sysfs?: string };
  /** The root the host mounted for the runtime (a unified guest's overlay); else the idmapped root or vdir. */
  rootPath?: string;
  /** The OCI runtime that will read the spec (runc refuses one bind in a user namespace; below). */
  runtime?: "crun" | "runc";
  /**
   * PID 1 is the guest's own systemd: the host path of the guest's own name=systemd cgroup, which
   * it gets writable (drivers/cgroup/systemd-hierarchy.ts).
   */
  systemdCgroup?: string;
}


export const MASKED_PATHS = [
  "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
  "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/proc/kmsg",
  "/sys/firmware", "/sys/devices/virtual/powercap", "/sys/kernel/debug", "/sys/kernel/security",
];

export const READONLY_PATHS = [
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
];

interface Mount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

function baseMounts(): Mount[] {
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
    { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"] },
  ];
}

/** fstab entries become OCI mounts; an entry for a base mount point replaces the base mount. */
export function fstabMounts(entries: FstabEntry[], idmapped = false): Mount[] {
  return entries.map((e) => {
    const bind = e.type === "none" && e.options.some((o) => o === "bind" || o === "rbind");
    if (bind || e.type === "bind") {
      const opts = e.options.filter((o) => o !== "bind" && o !== "rbind");
      const kind = e.options.includes("rbind") ? "rbind" : "bind";
      // A host directory shows its owners as the guest's root does its own files: root's files
      // are the guest root's, through the guest's id range.
      const idmap = idmapped && !opts.some((o) => o.startsWith("idmap")) ? ["idmap"] : [];
      return { destination: e.target, type: "bind", source: e.source, options: [kind, "nosuid", "nodev", ...idmap, ...opts] };
    }
    const safe = e.type === "proc" ? ["nosuid", "noexec", "nodev"] : e.type === "devpts" ? ["nosuid", "noexec", "newinstance", "ptmxmode=0666"] : ["nosuid", "nodev"];
    return { destination: e.target, type: e.type, source: e.source === "none" ? e.type : e.source, options: [...new Set([...safe, ...e.options])] };
  });
}

function mergeMounts(base: Mount[], extra: Mount[]): Mount[] {
  const out = [...base];
  for (const m of extra) {
    const i = out.findIndex((b) => b.destination === m.destination);
    if (i >= 0) out[i] = m;
    else out.push(m);
  }
  return out;
}

export function buildOciSpec(g: GuestConfig, facts: RuntimeFacts): Record<string, unknown> {
  const caps = toOciNames(g.capabilities);
  const sysAdmin = g.capabilities.includes("SYS_ADMIN");

  const userns = g.userNamespace ? facts.ids : undefined;
  if (g.userNamespace && !userns) throw new Error("buildOciSpec: a guest in its own user namespace needs its id range");
  let mounts = mergeMounts(baseMounts(), fstabMounts(g.fstab, !!userns));
  if (facts.args[0] === GUEST_INIT_PATH) {
    mounts.push({ destination: GUEST_INIT_PATH, type: "bind", source: facts.guestInitPath, options: ["bind", "ro", "nosuid", "nodev"] });
  }
  // Without a network namespace of its own, the kernel refuses a fresh sysfs; show the host's read-only.
  // Not recursive: "ro" applies to the top mount only, and an rbind would carry the host's cgroup v1
  // roots (release_agent), debugfs, tracefs and bpffs in read-write below it.
  // In a user namespace runc refuses a non-recursive bind of a tree with mounts below it (the
  // kernel has locked them to it), and needs "rbind"; the host's cgroup roots and the like then
  // come along, but belong to the host's root, whom the guest's user namespace does not map.
  if (!g.netNamespace && !facts.netnsPath) {
    const kind = userns && facts.runtime === "runc" ? "rbind" : "bind";
    mounts = mounts.map((m) => (m.destination === "/sys" ? { destination: "/sys", type: "bind", source: "/sys", options: [kind, "nosuid", "noexec", "nodev", "ro"] } : m));
  }
  // A network namespace of ours is the host user namespace's: the guest's runtime may not mount a
  // sysfs of it, so it gets the one the host made (drivers/userns-mounts.ts).
  if (userns?.sysfs) {
    mounts = mounts.map((m) => (m.destination === "/sys" ? { destination: "/sys", type: "bind", source: userns.sysfs!, options: ["bind", "nosuid", "noexec", "nodev", "ro"] } : m));
  }

  if (facts.systemdCgroup) mounts = withSystemdMounts(mounts, facts.systemdCgroup);

  const namespaces: Array<{ type: string; path?: string }> = [
    { type: "pid" }, { type: "mount" }, { type: "uts" }, { type: "ipc" }, { type: "cgroup" },
  ];
  if (userns) namespaces.push({ type: "user" });
  if (facts.netnsPath) namespaces.push({ type: "network", path: facts.netnsPath });
  else if (g.netNamespace) namespaces.push({ type: "network" });

  const memory = g.memoryLimit === undefined ? Math.floor(facts.hostMemoryBytes * 0.5) : g.memoryLimit;
  const resources: Record<string, unknown> = {
    devices: [
      { allow: false, access: "rwm" },
      ...[[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 2]].map(([major, minor]) => ({ allow: true, type: "c", major, minor, access: "rwm" })),
      { allow: true, type: "c", major: 136, access: "rwm" },
    ],
    cpu: { shares: g.cpuShares ?? 1024, ...(g.cpuShare !== undefined ? { quota: cpuQuotaUs(g.cpuShare, facts.cpus ?? 1), period: CPU_PERIOD_US } : {}) },
  };
  if (g.pidsLimit !== undefined) resources.pids = { limit: g.pidsLimit };
  if (memory !== null && memory !== undefined && Number.isFinite(memory)) resources.memory = { limit: memory };

  const sysctl: Record<string, string> = {};
  if (g.domainname) sysctl["kernel.domainname"] = g.domainname;
  for (const [k, v] of g.sysctl) sysctl[k] = v;

  const linux: Record<string, unknown> = {
    namespaces,
    cgroupsPath: facts.cgroupsPath,
    resources,
    maskedPaths: MASKED_PATHS,
    readonlyPaths: READONLY_PATHS,
    sysctl,
  };
  if (userns) {
    const map = [{ containerID: 0, hostID: userns.range.base, size: userns.range.count }];
    linux.uidMappings = map;
    linux.gidMappings = map;
  }
  const personality = personalityDomain(g.personality, g.utsMachine, facts.arch);
  if (personality) linux.personality = { domain: personality };
  if (g.seccomp === "default") {
    linux.seccomp = defaultSeccomp({ sysAdmin, lock: g.cflags.has("lock"), arch: facts.arch, hostNetwork: !g.netNamespace && !facts.netnsPath });
  }

  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: facts.args,
      env: guestEnvironment(g),
      cwd: "/",
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: g.ulimits.map((u) => ({ type: u.type, hard: u.hard, soft: u.soft })),
      noNewPrivileges: g.noNewPrivileges,
    },
    root: { path: facts.rootPath ?? (userns ? userns.root : g.vdir), readonly: false },
    hostname: g.nodename,
    mounts,
    linux,
  };
}

/**
 * What systemd as a guest's PID 1 needs from its container (systemd.io/CONTAINER_INTERFACE):
 * tmpfs on /run and /run/lock, since systemd would mount them itself and cannot without
 * CAP_SYS_ADMIN (a fatal error for it), unless the guest's fstab has its own; and its own
 * cgroup of the name=systemd hierarchy writable where it looks for it. The runtime mounts no
 * default hierarchy where the spec has a mount of its own, and this one comes after the cgroup
 * mount, whose tmpfs it lands in. Everything else stays as for any guest: /sys, /proc/sys and
 * the controllers' hierarchies read-only.
 */
function withSystemdMounts(mounts: Mount[], cgroupDir: string): Mount[] {
  const tmpfs: Mount[] = [
    { destination: "/run", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=755", "size=65536k"] },
    // systemd 252 mounts this one too, as fatally as /run (systemd's own options).
    { destination: "/run/lock", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "noexec", "mode=1777", "size=5120k"] },
  ].filter((t) => !mounts.some((m) => m.destination === t.destination));
  return [...mounts, ...tmpfs, { destination: "/sys/fs/cgroup/systemd", type: "bind", source: cgroupDir, options: ["bind", "nosuid", "noexec", "nodev", "rw"] }];
}

/** The environment of the guest's processes: its init's, and every exec's. */
export function guestEnvironment(g: GuestConfig): string[] {
  return [...g.environment, "container=vserver", `VSERVER_NAME=${g.name}`];
}

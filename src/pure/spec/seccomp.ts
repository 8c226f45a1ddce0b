// The default seccomp profile for guests: a deny list over the kernel surface that a confined
// root has no business touching, on top of the capability whitelist. A deny list rather than
// Docker's allow list, because system containers run whole distributions whose syscall needs are
// wide and change with every release; what is denied here is what the major runtimes' profiles
// and the escape history single out (docs/security.md).

export interface SeccompOptions {
  /** The guest holds CAP_SYS_ADMIN: leave mount and namespace calls to the capability check. */
  sysAdmin: boolean;
  /** The `lock` flag: no new namespaces, whatever the capabilities. */
  lock: boolean;
  /** uname -m of the host, to name the syscall ABIs. */
  arch: string;
  /** The guest shares the host's network namespace (no interfaces/, or mode shared). */
  hostNetwork?: boolean;
}

interface Rule {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: Array<{ index: number; value: number; valueTwo?: number; op: string }>;
}

const EPERM = 1;
const ENOSYS = 38;

/** Namespace bits of clone(2)/unshare(2) flags. */
export const CLONE_NS_FLAGS: Record<string, number> = {
  CLONE_NEWNS: 0x00020000,
  CLONE_NEWCGROUP: 0x02000000,
  CLONE_NEWUTS: 0x04000000,
  CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
  CLONE_NEWTIME: 0x00000080,
};

const AF_PACKET = 17;
const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;
/**
 * btrfs ioctls that would let a guest leave its disk limit: a new subvolume or snapshot inside
 * its root gets a qgroup of its own that the guest's limit does not charge, and deleting one, or
 * the quota and qgroup calls, change what is counted. The quota calls need CAP_SYS_ADMIN of the
 * host as well; creating a subvolume needs only write access to a directory (docs/security.md).
 */
export const BTRFS_IOCTLS: Record<string, number> = {
  BTRFS_IOC_SNAP_CREATE: 0x50009401,
  BTRFS_IOC_SNAP_CREATE_V2: 0x50009417,
  BTRFS_IOC_SUBVOL_CREATE: 0x5000940e,
  BTRFS_IOC_SUBVOL_CREATE_V2: 0x50009418,
  BTRFS_IOC_SNAP_DESTROY: 0x5000940f,
  BTRFS_IOC_SNAP_DESTROY_V2: 0x5000943f,
  BTRFS_IOC_QUOTA_CTL: 0xc0109428,
  BTRFS_IOC_QGROUP_ASSIGN: 0x40189429,
  BTRFS_IOC_QGROUP_CREATE: 0x4010942a,
  BTRFS_IOC_QGROUP_LIMIT: 0x8030942b,
  BTRFS_IOC_QUOTA_RESCAN: 0x4040942c,
};
const ADDR_NO_RANDOMIZE = 0x0040000;
const READ_IMPLIES_EXEC = 0x0400000;

function archList(arch: string): string[] {
  if (arch === "aarch64" || arch === "arm64") return ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"];
  return ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"];
}

/**
 * Refuse one ioctl request. The kernel reads the request as 32 bits (ioctl's `unsigned int cmd`)
 * but seccomp sees the whole 64-bit register: an exact match would let a caller set the upper
 * bits and pass, so only the low 32 bits are compared (value is the mask, valueTwo the datum).
 */
function denyIoctl(request: number): Rule {
  return { names: ["ioctl"], action: "SCMP_ACT_ERRNO", errnoRet: EPERM, args: [{ index: 1, value: 0xffffffff, valueTwo: request, op: "SCMP_CMP_MASKED_EQ" }] };
}

function deny(names: string[], errno = EPERM): Rule {
  return { names, action: "SCMP_ACT_ERRNO", errnoRet: errno };
}

/** One rule per bit: libseccomp ORs rules, and cannot test "any of these bits" in one comparison. */
function denyWithBits(name: string, argIndex: number, bits: number[]): Rule[] {
  return bits.map((bit) => ({
    names: [name],
    action: "SCMP_ACT_ERRNO",
    errnoRet: EPERM,
    args: [{ index: argIndex, value: bit, valueTwo: bit, op: "SCMP_CMP_MASKED_EQ" }],
  }));
}

/** personality(2)'s query: it reads the current persona and sets nothing. */
export const PERSONA_QUERY = 0xffffffff;

/**
 * Personas with any of these flags are refused, but not the query, whose value has every bit
 * set (systemd asks it before each LockPersonality= service, journald's among them, and fails
 * the service when refused). A rule compares an argument once and cannot say "not this value",
 * so each flag gets one rule per other bit, "the flag set and that bit clear": together they
 * match every persona with the flag except the query. Only the low 32 bits, which the kernel
 * reads, are compared.
 */
function denyPersonaFlags(flags: number[]): Rule[] {
  const rules: Rule[] = [];
  for (const flag of flags) {
    for (let k = 0; k < 32; k++) {
      const other = 2 ** k;
      if (other === flag) continue;
      rules.push({ names: ["personality"], action: "SCMP_ACT_ERRNO", errnoRet: EPERM, args: [{ index: 0, value: flag + other, valueTwo: flag, op: "SCMP_CMP_MASKED_EQ" }] });
    }
  }
  return rules;
}

export function defaultSeccomp(opts: SeccompOptions): object {
  const rules: Rule[] = [
    // Kernel keyrings are not namespaced: one guest could read or fill another's keys.
    deny(["add_key", "request_key", "keyctl"]),
    // Programs and probes that run in the kernel, and kernel replacement or modules.
    deny(["bpf", "perf_event_open", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module"]),
    // "Shocker": open_by_handle_at with CAP_DAC_READ_SEARCH (in util-vserver's whitelist) opens any
    // inode of the file system by handle, outside the guest root.
    deny(["open_by_handle_at", "name_to_handle_at"]),
    // Host-wide knobs and obsolete or dangerous calls.
    deny(["acct", "swapon", "swapoff", "syslog", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
      "stime", "iopl", "ioperm", "lookup_dcookie", "nfsservctl", "uselib", "_sysctl", "create_module",
      "get_kernel_syms", "query_module", "vhangup", "quotactl", "quotactl_fd", "fanotify_init",
      "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register"]),
    // Typing into a terminal (TIOCSTI) and the virtual console's TIOCLINUX: never a guest's right,
    // even on a pty it owns, because that pty may be the admin's.
    denyIoctl(TIOCSTI),
    denyIoctl(TIOCLINUX),
    // Leaving the disk limit through btrfs subvolumes, snapshots and quota calls.
    ...Object.values(BTRFS_IOCTLS).map(denyIoctl),
    // personality(2) switches that weaken exploit mitigations.
    ...denyPersonaFlags([ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC]),
  ];

  if (!opts.sysAdmin) {
    rules.push(deny(["mount", "umount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsconfig",
      "fsmount", "fspick", "mount_setattr"]));
  }
  if (!opts.sysAdmin || opts.lock) {
    // New namespaces (a user namespace gives back every capability inside it, and with it a much
    // larger kernel surface). clone3 passes flags in memory that seccomp cannot read: make libc
    // fall back to clone by answering ENOSYS.
    const bits = Object.values(CLONE_NS_FLAGS);
    rules.push(deny(["setns"]));
    rules.push(deny(["clone3"], ENOSYS));
    rules.push(...denyWithBits("unshare", 0, bits));
    rules.push(...denyWithBits("clone", 0, bits.filter((b) => b !== CLONE_NS_FLAGS.CLONE_NEWTIME)));
  }

  if (opts.hostNetwork) {
    // A packet socket on the host's stack reads and sends every frame of every host link, the
    // host's and other guests' traffic, and no cgroup socket hook sees it (sock_create runs for
    // inet sockets only). Only a privileged guest given NET_RAW could open one: in a user
    // namespace the kernel refuses it, since the host's network namespace is not the guest's.
    // 32-bit programs that make sockets through socketcall(2) pass the family in memory, which
    // seccomp cannot read: that path stays open to such a guest (docs/security.md).
    rules.push({ names: ["socket"], action: "SCMP_ACT_ERRNO", errnoRet: EPERM, args: [{ index: 0, value: AF_PACKET, op: "SCMP_CMP_EQ" }] });
  }

  return {
    defaultAction: "SCMP_ACT_ALLOW",
    architectures: archList(opts.arch),
    syscalls: rules,
  };
}

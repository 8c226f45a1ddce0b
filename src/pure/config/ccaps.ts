// util-vserver's context capabilities (ccapabilities, vattribute --ccap; reference §3.3): slices
// of powerful privileges that the VServer kernel checked on its own. Today's kernel has none of
// them; where a Linux capability inside the guest's user namespace grants the same thing, the
// ccap is read as that capability. The others are refused with the reason.

import type { CapName } from "./capabilities";

export type CcapMeaning = { cap: CapName } | { refused: string };

const SYS_ADMIN = "it needs CAP_SYS_ADMIN, which no guest gets (docs/security.md)";

const CCAPS: Record<string, CcapMeaning> = {
  set_rlimit: { cap: "SYS_RESOURCE" },
  raw_icmp: { cap: "NET_RAW" },
  oom_adjust: { cap: "SYS_RESOURCE" },
  set_utsname: { refused: `a guest's hostname comes from uts/nodename (vuname changes it live); setting it from inside ${SYS_ADMIN.slice(3)}` },
  fs_security: { refused: `security.* extended attributes: ${SYS_ADMIN}` },
  fs_trusted: { refused: `trusted.* extended attributes: ${SYS_ADMIN}` },
  tiocsti: { refused: "typing into a terminal (TIOCSTI) is refused by the seccomp profile, for every guest" },
  syslog: { refused: "the kernel log is the host's; no capability in a guest's user namespace opens it" },
  audit_control: { refused: "audit control is the host's; no capability in a guest's user namespace grants it" },
  secure_mount: { refused: `mounting: ${SYS_ADMIN}; put the mount in the guest's fstab, or use vmount` },
  secure_remount: { refused: `remounting: ${SYS_ADMIN}` },
  binary_mount: { refused: `mounting: ${SYS_ADMIN}; put the mount in the guest's fstab, or use vmount` },
  dev_mount: { refused: `mounting block devices: ${SYS_ADMIN}; use vmount from the host` },
  quota_ctl: { refused: `quota control: ${SYS_ADMIN}` },
  admin_mapper: { refused: `device-mapper administration: ${SYS_ADMIN}` },
  admin_cloop: { refused: `loop device administration: ${SYS_ADMIN}` },
  kthread: { refused: "kernel threads cannot be made from a guest" },
  namespace: { refused: "new namespaces are governed by the 'lock' context flag (without it a guest may make them)" },
};

const ALIASES: Record<string, string> = { utsname: "set_utsname", rlimit: "set_rlimit", icmp: "raw_icmp", ping: "raw_icmp", mount: "secure_mount", remount: "secure_remount" };

/** A ccap name (any case, with or without VXC_) and what it means here; undefined for a name util-vserver did not know. */
export function ccapMeaning(raw: string): { name: string; meaning: CcapMeaning } | undefined {
  const low = raw.toLowerCase().replace(/^vxc_/, "");
  const name = ALIASES[low] ?? low;
  const meaning = CCAPS[name];
  return meaning ? { name, meaning } : undefined;
}

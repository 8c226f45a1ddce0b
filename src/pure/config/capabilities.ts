// Bounding capabilities. util-vserver's default is a whitelist (reference §3.4); `bcapabilities`
// adds names and removes them with a `~` or `!` prefix.

import { ConfigError } from "../../errors";

/** Every capability name the kernel knows, in bit order. */
export const ALL_CAPABILITIES = [
  "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
  "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
  "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
  "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
  "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
  "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
] as const;

export type CapName = (typeof ALL_CAPABILITIES)[number];

/**
 * util-vserver's secure default (lib/getinsecurebcaps.c). SYS_BOOT is left out: without the
 * kernel's vshelper a guest's reboot() can only end its own PID namespace, which `stop` does better.
 * SYS_PTRACE is left out too: with it guest root can seize the runtime's `exec` process while that
 * still holds the host's full capability set (tests/integration/escape.test.ts, docs/security.md);
 * without it guest root still traces every process whose capabilities do not exceed its own.
 */
export const DEFAULT_CAPABILITIES: readonly CapName[] = [
  "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
  "NET_BIND_SERVICE", "SYS_CHROOT", "SYS_TTY_CONFIG", "LEASE", "SETFCAP", "AUDIT_WRITE",
];

const KNOWN = new Set<string>(ALL_CAPABILITIES);

export function normaliseCapName(raw: string, file: string): CapName {
  const name = raw.trim().toUpperCase().replace(/^CAP_/, "");
  if (!KNOWN.has(name)) {
    throw new ConfigError(`${file}: '${raw}' is not a capability name (for example CAP_NET_RAW).`, { file });
  }
  return name as CapName;
}

/**
 * Apply a util-vserver capability list to a base set. Items: NAME adds, ~NAME or !NAME removes,
 * `all`/`any` adds every capability, `none` clears the set.
 */
export function applyCapabilityList(base: readonly CapName[], items: string[], file: string): CapName[] {
  const set = new Set<CapName>(base);
  for (const item of items) {
    const negate = item.startsWith("~") || item.startsWith("!");
    const word = negate ? item.slice(1) : item;
    const lower = word.trim().toLowerCase();
    if (lower === "all" || lower === "any") {
      for (const c of ALL_CAPABILITIES) negate ? set.delete(c) : set.add(c);
      continue;
    }
    if (lower === "none") {
      if (!negate) set.clear();
      continue;
    }
    const cap = normaliseCapName(word, file);
    negate ? set.delete(cap) : set.add(cap);
  }
  return ALL_CAPABILITIES.filter((c) => set.has(c));
}

export function toOciNames(caps: readonly CapName[]): string[] {
  return caps.map((c) => `CAP_${c}`);
}

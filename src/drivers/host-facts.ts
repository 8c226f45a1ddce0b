// Facts of this host's kernel that several operations need, read in one place: which capabilities
// the kernel knows, which a process holds (the host's root may itself be confined, inside another
// container), and the page size. All from /proc, no program run.

import { readFileSync } from "node:fs";
import { capsFromMask } from "../pure/cap-mask";
import { ALL_CAPABILITIES, type CapName } from "../pure/config/capabilities";

/** The capabilities this kernel knows (/proc/sys/kernel/cap_last_cap); setpriv fails on others. */
export function knownCaps(): CapName[] {
  const last = Number(readFileSync("/proc/sys/kernel/cap_last_cap", "latin1").trim());
  return ALL_CAPABILITIES.slice(0, last + 1);
}

/** One capability set of a process, as /proc/PID/status shows it (undefined if the line is absent). */
function capSet(pid: number | "self", field: "CapBnd" | "CapEff"): CapName[] | undefined {
  const m = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, "m").exec(readFileSync(`/proc/${pid}/status`, "latin1"));
  return m ? capsFromMask(m[1]!) : undefined;
}

/** A process's capability bounding set: what it and everything it starts can ever hold. */
export function boundingSet(pid: number | "self" = "self"): CapName[] | undefined {
  return capSet(pid, "CapBnd");
}

/** Whether this process holds a capability in its effective set (the host's root may not). */
export function holdsCapability(cap: CapName): boolean {
  return capSet("self", "CapEff")?.includes(cap) ?? false;
}

/** prctl(PR_CAPBSET_DROP) needs CAP_SETPCAP in the effective set; an ordinary user has none. */
export function canLowerBoundingSet(): boolean {
  return holdsCapability("SETPCAP");
}

/** The host's memory (MemTotal), which the default memory limit of a guest is a fraction of. */
export function hostMemoryBytes(): number {
  const m = /MemTotal:\s+(\d+) kB/.exec(readFileSync("/proc/meminfo", "latin1"));
  return m ? Number(m[1]) * 1024 : 1 << 30;
}

let pageSize: number | undefined;

/** The kernel's page size, from our own RSS in pages and in kB (no getconf process). */
export function pageBytes(): number {
  if (pageSize) return pageSize;
  pageSize = 4096;
  try {
    const stat = readFileSync("/proc/self/statm", "latin1").split(" ");
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "latin1"));
    const pages = Number(stat[1]);
    if (kb && pages > 0) {
      const guess = (Number(kb[1]) * 1024) / pages;
      for (const p of [4096, 16384, 65536]) if (Math.abs(guess - p) / p < 0.2) pageSize = p;
    }
  } catch {}
  return pageSize;
}

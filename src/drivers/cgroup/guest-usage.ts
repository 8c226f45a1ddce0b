// What a guest's cgroup says it costs and may cost: memory, pids and CPU time, in v1 or v2
// file names. Plain file reads, a few per guest, so vserver-stat --json stays cheap.

import { readFileSync } from "node:fs";
import { cgroupHost, hierarchyFor, type CgroupHost } from "./hierarchies";

export interface CgroupUsage {
  memoryBytes: number | null;
  /** null: no limit. */
  memoryLimitBytes: number | null;
  pids: number | null;
  pidsLimit: number | null;
  /** CPU time of all the guest's processes, living and dead, in seconds. */
  cpuSeconds: number | null;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "latin1").trim();
  } catch {
    return undefined;
  }
}

function num(s: string | undefined): number | null {
  if (s === undefined || s === "" || s === "max") return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

/** v1 reports "no limit" as a huge page-rounded number rather than "max". */
function v1Limit(s: string | undefined): number | null {
  const n = num(s);
  return n === null || n >= 2 ** 62 ? null : n;
}

export function cgroupUsage(path: string, host: CgroupHost = cgroupHost()): CgroupUsage {
  const dir = (ctrl: string) => {
    const h = hierarchyFor(host, ctrl);
    return h ? { d: `${h.mount}${path}`, v: h.version } : undefined;
  };
  const u: CgroupUsage = { memoryBytes: null, memoryLimitBytes: null, pids: null, pidsLimit: null, cpuSeconds: null };
  const mem = dir("memory");
  if (mem?.v === 2) {
    u.memoryBytes = num(read(`${mem.d}/memory.current`));
    u.memoryLimitBytes = num(read(`${mem.d}/memory.max`));
  } else if (mem) {
    u.memoryBytes = num(read(`${mem.d}/memory.usage_in_bytes`));
    u.memoryLimitBytes = v1Limit(read(`${mem.d}/memory.limit_in_bytes`));
  }
  const pids = dir("pids");
  if (pids) {
    u.pids = num(read(`${pids.d}/pids.current`));
    u.pidsLimit = num(read(`${pids.d}/pids.max`));
  }
  const cpu = host.layout === "v2" ? dir("cpu") : dir("cpuacct");
  if (cpu?.v === 2) {
    const m = /usage_usec (\d+)/.exec(read(`${cpu.d}/cpu.stat`) ?? "");
    u.cpuSeconds = m ? Number(m[1]) / 1e6 : null;
  } else if (cpu) {
    const ns = num(read(`${cpu.d}/cpuacct.usage`));
    u.cpuSeconds = ns === null ? null : ns / 1e9;
  }
  return u;
}

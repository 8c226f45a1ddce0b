// One pass over /proc: every process on the host with its context, read from its cgroup path
// (/<parent>/<context> in any hierarchy; reference §4.4 "spectator context"). This is what makes
// vserver-stat and vps cheap with hundreds of guests: no runtime call, no per-guest process.

import { readdirSync, readFileSync } from "node:fs";

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** 0 for host processes. */
  context: number;
  /** Clock ticks. */
  utime: number;
  stime: number;
  /** Clock ticks after boot. */
  starttime: number;
  /** Bytes. */
  vsize: number;
  /** Pages. */
  rssPages: number;
}

/** USER_HZ: 100 on every Linux architecture we run on (the kernel fixes it for userspace). */
export const CLOCK_TICKS = 100;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A matcher for /proc/PID/cgroup content: the context number, or 0 for the host. */
export function contextMatcher(cgroupParent: string): (cgroupFile: string) => number {
  const re = new RegExp(`^[^:\\n]*:[^:\\n]*:/${escapeRe(cgroupParent)}/(\\d+)(?:/|$)`, "m");
  return (content) => {
    const m = re.exec(content);
    return m ? Number(m[1]) : 0;
  };
}

export function readFileOr(path: string): string | undefined {
  try {
    return readFileSync(path, "latin1");
  } catch {
    return undefined;
  }
}

/** The fields of /proc/PID/stat after "(comm)", which may itself hold spaces and parentheses. */
export function parseStat(pid: number, stat: string, context: number): ProcInfo | undefined {
  const close = stat.lastIndexOf(")");
  if (close < 0) return undefined;
  const f = stat.slice(close + 2).split(" ");
  // f[0] is field 3 (state): field N is f[N-3].
  return {
    pid,
    ppid: Number(f[1]),
    context,
    utime: Number(f[11]),
    stime: Number(f[12]),
    starttime: Number(f[19]),
    vsize: Number(f[20]),
    rssPages: Number(f[21]),
  };
}

export function listPids(): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    const c = d.charCodeAt(0);
    if (c >= 48 && c <= 57) out.push(Number(d));
  }
  return out;
}

/** Context of one process, or undefined if it is gone. */
export function contextOfPid(pid: number, match: (c: string) => number): number | undefined {
  const cg = readFileOr(`/proc/${pid}/cgroup`);
  return cg === undefined ? undefined : match(cg);
}

/** Every process (not thread) with its numbers; processes that vanish mid-scan are skipped. */
export function scanProcesses(cgroupParent: string, opts: { stats?: boolean } = {}): ProcInfo[] {
  const match = contextMatcher(cgroupParent);
  const out: ProcInfo[] = [];
  for (const pid of listPids()) {
    const cg = readFileOr(`/proc/${pid}/cgroup`);
    if (cg === undefined) continue;
    const context = match(cg);
    if (opts.stats === false) {
      out.push({ pid, ppid: 0, context, utime: 0, stime: 0, starttime: 0, vsize: 0, rssPages: 0 });
      continue;
    }
    const st = readFileOr(`/proc/${pid}/stat`);
    const info = st === undefined ? undefined : parseStat(pid, st, context);
    if (info) out.push(info);
  }
  return out;
}

/** Seconds since boot. */
export function systemUptime(): number {
  return Number((readFileOr("/proc/uptime") ?? "0").split(" ")[0]);
}


// The host's view of every context (util-vserver's spectator context 1): which process belongs
// to which guest, and what each guest costs. Built from one /proc pass plus the run records;
// never asks the runtime, so it stays cheap with hundreds of guests.

import { readdirSync, readlinkSync } from "node:fs";
import { allRunRecords, type RunRecord } from "../drivers/run-state";
import { CLOCK_TICKS, contextMatcher, contextOfPid, readFileOr, scanProcesses, systemUptime, type ProcInfo } from "../drivers/proc-scan";
import { pageBytes } from "../drivers/host-facts";
import { cgroupUsage, type CgroupUsage } from "../drivers/cgroup/guest-usage";
import { guestCgroupPath } from "../drivers/cgroup/guest-cgroups";
import type { ContextStat } from "../pure/format/vserver-stat";
import { HOST_NAME, type Attribution } from "../pure/format/vps";
import { markContextTops } from "../pure/format/pstree";
import { run } from "../drivers/process";
import { UsageError } from "../errors";
import type { Env } from "./env";
import { guestNetCounters, type NetCounters } from "../drivers/net/counters";

/** Context number -> guest name, from the run records (stale ones too: a name is a name). */
export function contextNames(env: Env): Map<number, string> {
  const m = new Map<number, string>();
  for (const r of allRunRecords(env.paths)) m.set(r.context, r.name);
  for (const c of adHocContexts(env)) if (!m.has(c.context)) m.set(c.context, c.label);
  return m;
}

/** Contexts made by chcontext: $RUN/.contexts/<n> holds a label for the views. */
export function adHocContexts(env: Env): Array<{ context: number; label: string }> {
  const dir = `${env.paths.runDir}/.contexts`;
  try {
    return readdirSync(dir).filter((n) => /^\d+$/.test(n)).map((n) => ({ context: Number(n), label: (readFileOr(`${dir}/${n}`) ?? "").trim() }));
  } catch {
    return [];
  }
}

/** A per-pid attribution function for vps/vtop/vpstree: reads /proc/PID/cgroup on demand. */
export function attributor(env: Env): (pid: number) => Attribution | undefined {
  const names = contextNames(env);
  const match = contextMatcher(env.paths.cgroupParent);
  return (pid) => {
    const ctx = contextOfPid(pid, match);
    if (ctx === undefined) return undefined;
    return { context: ctx, name: ctx === 0 ? HOST_NAME : names.get(ctx) ?? "" };
  };
}

export interface GuestStatJson extends ContextStat, Partial<CgroupUsage> {
  pid1?: number;
  netRxBytes?: number | null;
  netTxBytes?: number | null;
  netRxPackets?: number | null;
  netTxPackets?: number | null;
}

/** PID 1's network namespace, and ours where we run apart from it: a guest in either shares the host's stack. */
function hostNetnses(): string[] {
  return [netnsId(1), netnsId("self")].filter((x): x is string => !!x);
}

function netnsId(pid: number | string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

/** Traffic through the guest's own links (loopback left out); null while it shares the host's stack. */
export function guestNetTraffic(pid1: number, hostNetns = hostNetnses()): NetCounters | null {
  const own = netnsId(pid1);
  if (!own || hostNetns.includes(own)) return null;
  return guestNetCounters(pid1) ?? null;
}

/** One line per context with processes: the host (0), every guest, every chcontext context. */
export function contextStats(env: Env, opts: { usage?: boolean } = {}): GuestStatJson[] {
  const procs = scanProcesses(env.paths.cgroupParent);
  const page = pageBytes();
  const up = systemUptime();
  const records = new Map<number, RunRecord>();
  for (const r of allRunRecords(env.paths)) records.set(r.context, r);
  const names = contextNames(env);
  const by = new Map<number, { stat: GuestStatJson; earliest: number }>();
  const rowFor = (p: ProcInfo) => {
    let e = by.get(p.context);
    if (!e) {
      e = { stat: { context: p.context, name: names.get(p.context) ?? "", processes: 0, vsz: 0, rss: 0, userSeconds: 0, sysSeconds: 0, uptimeSeconds: 0 }, earliest: Infinity };
      by.set(p.context, e);
    }
    return e;
  };
  for (const p of procs) {
    const e = rowFor(p);
    const s = e.stat;
    s.processes++;
    s.vsz += p.vsize;
    s.rss += p.rssPages * page;
    s.userSeconds += p.utime / CLOCK_TICKS;
    s.sysSeconds += p.stime / CLOCK_TICKS;
    if (p.starttime < e.earliest) e.earliest = p.starttime;
  }
  const hostNetns = opts.usage ? hostNetnses() : [];
  const ctxOfPid = new Map<number, number>();
  for (const p of procs) ctxOfPid.set(p.pid, p.context);
  const out: GuestStatJson[] = [];
  for (const [ctx, { stat, earliest }] of by) {
    const rec = records.get(ctx);
    const pid1 = rec && ctxOfPid.get(rec.pid) === ctx ? rec.pid : undefined;
    if (ctx === 0) stat.uptimeSeconds = up;
    else stat.uptimeSeconds = Math.max(0, up - earliest / CLOCK_TICKS);
    if (opts.usage && ctx !== 0) {
      Object.assign(stat, cgroupUsage(guestCgroupPath(env.paths.cgroupParent, ctx)));
      if (pid1) stat.pid1 = pid1;
      const n = pid1 ? guestNetTraffic(pid1, hostNetns) : null;
      stat.netRxBytes = n?.rxBytes ?? null;
      stat.netTxBytes = n?.txBytes ?? null;
      stat.netRxPackets = n?.rxPackets ?? null;
      stat.netTxPackets = n?.txPackets ?? null;
    }
    stat.userSeconds = Math.round(stat.userSeconds * 100) / 100;
    stat.sysSeconds = Math.round(stat.sysSeconds * 100) / 100;
    stat.uptimeSeconds = Math.round(stat.uptimeSeconds * 100) / 100;
    out.push(stat);
  }
  return out.sort((a, b) => a.context - b.context);
}

/** vpstree: `pstree -p ARGS` with the top process of every context marked (pure/format/pstree.ts). */
export function processTree(env: Env, args: string[]): string {
  const r = run(["pstree", "-p", ...args]);
  if (r.code !== 0) {
    const line = r.stderr.split("\n").find((l) => l.trim()) ?? `exit status ${r.code}`;
    throw new UsageError(`pstree refused '${args.join(" ")}': ${line}`);
  }
  const procs = new Map(scanProcesses(env.paths.cgroupParent).map((p) => [p.pid, p]));
  return markContextTops(r.stdout, procs, contextNames(env));
}

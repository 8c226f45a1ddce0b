// vlimit: a running guest's limits read and changed where the kernel allows it (its cgroup files
// for whole-guest limits, prlimit on its processes for per-process ones), and with --save written
// into its config. What cannot change in a running guest is refused with the reason.

import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { ConfigError, NotFoundError, ToolError, UsageError } from "../errors";
import { list } from "../pure/config/values";
import { cgroupPids } from "../drivers/cgroup/guest-cgroups";
import { cgroupHost, hierarchyFor } from "../drivers/cgroup/hierarchies";
import { lastLine, run } from "../drivers/process";
import { holdsCapability } from "../drivers/host-facts";
import {
  memoryBytesToPages, PAGE_SIZE, parseLimitValue, parseProcLimits, RESOURCES,
  sharesToWeight, weightToShares, type LimitRow, type ResourceInfo,
} from "../pure/live-settings";
import type { Env } from "./env";
import { CPU_PERIOD_US, cpuQuotaUs } from "../pure/sched";
import { cfgDirOf } from "./guests";
import { journal, requireGuest, writeConfigFile, type LiveTarget } from "./live-target";

export interface LimitChange {
  res: ResourceInfo;
  /** Which of the pair: both (no -S/-H), soft, hard. */
  which: "both" | "soft" | "hard";
  /** undefined = infinite. */
  value: number | undefined;
}

function cgFile(controller: string, file: string, t: LiveTarget): string {
  const h = hierarchyFor(cgroupHost(), controller);
  if (!h) throw new ToolError(`this host has no '${controller}' cgroup controller, so the guest's ${controller} limit cannot be read or changed.`);
  return `${h.mount}${t.cgroupPath}/${file}`;
}

function isV2(controller: string): boolean {
  return hierarchyFor(cgroupHost(), controller)?.version === 2;
}

function readCg(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch (e) {
    throw new ToolError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
}

function writeCg(path: string, value: string, what: string, t: LiveTarget): void {
  try {
    writeFileSync(path, value);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "EBUSY" ? " (the guest uses more than that now and the kernel could not reclaim enough)" : "";
    throw new ToolError(`the kernel refused ${what} for ${t.label}: ${code ?? (e as Error).message}${why}.`);
  }
}

/** The current value of a whole-guest limit (pages for memory, shares for CPU). */
function readGuestLimit(name: string, t: LiveTarget): number | undefined {
  if (name === "nproc") {
    const v = readCg(cgFile("pids", "pids.max", t));
    return v === "max" ? undefined : Number(v);
  }
  if (name === "rss" || name === "as") {
    return memoryBytesToPages(readCg(cgFile("memory", isV2("memory") ? "memory.max" : "memory.limit_in_bytes", t)));
  }
  // cpu-shares
  if (isV2("cpu")) return weightToShares(Number(readCg(cgFile("cpu", "cpu.weight", t))));
  return Number(readCg(cgFile("cpu", "cpu.shares", t)));
}

function setGuestLimit(c: LimitChange, t: LiveTarget): void {
  const { name } = c.res;
  if (name === "nproc") {
    writeCg(cgFile("pids", "pids.max", t), c.value === undefined ? "max" : String(c.value), `a process limit of ${c.value ?? "max"}`, t);
  } else if (name === "rss" || name === "as") {
    const bytes = c.value === undefined ? undefined : c.value * PAGE_SIZE;
    if (isV2("memory")) {
      writeCg(cgFile("memory", "memory.max", t), bytes === undefined ? "max" : String(bytes), `a memory limit of ${bytes ?? "max"} bytes`, t);
    } else {
      // A memory+swap limit below the new memory limit makes the kernel refuse it: move it along.
      const memsw = cgFile("memory", "memory.memsw.limit_in_bytes", t);
      const limitFile = cgFile("memory", "memory.limit_in_bytes", t);
      const raising = bytes === undefined || bytes > Number(readCg(limitFile));
      const writeMemsw = () => existsSync(memsw) && writeCg(memsw, bytes === undefined ? "-1" : String(bytes), `a memory+swap limit of ${bytes ?? "-1"} bytes`, t);
      const swapLimited = existsSync(memsw) && Number(readCg(memsw)) < 2 ** 62;
      if (swapLimited && raising) writeMemsw();
      writeCg(limitFile, bytes === undefined ? "-1" : String(bytes), `a memory limit of ${bytes ?? "-1"} bytes`, t);
      if (swapLimited && !raising) writeMemsw();
    }
  } else {
    const shares = c.value;
    if (shares === undefined || shares < 2 || shares > 262144) throw new UsageError(`--cpu-shares: ${shares ?? "inf"} is outside 2..262144.`);
    if (isV2("cpu")) writeCg(cgFile("cpu", "cpu.weight", t), String(sharesToWeight(shares)), `a CPU weight of ${sharesToWeight(shares)}`, t);
    else writeCg(cgFile("cpu", "cpu.shares", t), String(shares), `cpu.shares ${shares}`, t);
  }
}

function readProcessLimit(res: ResourceInfo, t: LiveTarget): { soft: number | undefined; hard: number | undefined } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${t.pid}/limits`, "utf8");
  } catch {
    return undefined;
  }
  return parseProcLimits(text).get(res.procLabel!);
}

/** prlimit on every process of the context; processes that end meanwhile are skipped. */
function setProcessLimit(c: LimitChange, t: LiveTarget): number {
  const v = c.value === undefined ? "unlimited" : String(c.value);
  const spec = c.which === "both" ? `${v}:${v}` : c.which === "soft" ? `${v}:` : `:${v}`;
  let n = 0;
  for (const pid of cgroupPids(t.cgroupPath)) {
    const r = run(["prlimit", `--pid=${pid}`, `--${c.res.prlimit}=${spec}`], { timeout: 10 });
    if (r.code === 0) {
      n++;
      continue;
    }
    if (!existsSync(`/proc/${pid}`) || /no such process/i.test(r.stderr)) continue;
    const cause = /not permitted/i.test(r.stderr) && !holdsCapability("SYS_RESOURCE")
      ? " (raising a hard limit needs CAP_SYS_RESOURCE, which vlimit does not hold here; lowering works)"
      : "";
    throw new ToolError(`cannot set --${c.res.name} ${v} for process ${pid} of ${t.label}: ${lastLine(r.stderr)}${cause}.`);
  }
  return n;
}

/** Every limit of the context, as rows for `vlimit -a` (memory in pages, CPU as shares). */
export function readLimits(t: LiveTarget): LimitRow[] {
  const rows: LimitRow[] = [];
  for (const res of RESOURCES) {
    if (res.kind === "none") continue;
    if (res.kind === "guest") {
      let v: number | undefined | null;
      try {
        v = readGuestLimit(res.name, t);
      } catch {
        v = null;
      }
      rows.push({ name: res.name, min: null, soft: null, hard: v });
    } else {
      const l = readProcessLimit(res, t);
      rows.push({ name: res.name, min: null, soft: l ? l.soft : null, hard: l ? l.hard : null });
    }
  }
  return rows;
}

export interface LimitResult {
  /** Plain notes for the user: what applies to which processes. */
  notes: string[];
  saved: string[];
}

/** Apply limit changes live; with save also write them into the guest's config. */
export function setLimits(env: Env, t: LiveTarget, changes: LimitChange[], save: boolean): LimitResult {
  for (const c of changes) {
    if (c.res.kind === "guest" && c.which !== "both" && c.which !== "hard") {
      throw new UsageError(`--${c.res.name}: a whole-guest limit is one cgroup value with no soft part; use it without -S.`);
    }
    // As in the config (docs/configuration.md): 0 would allow nothing, and saved it would be
    // refused at the next start; 'inf' is the way to say no limit.
    if (c.res.kind === "guest" && c.value === 0) {
      throw new UsageError(`--${c.res.name}: 0 is not a limit for a whole guest (it would allow nothing at all); give a number from 1, or inf for no limit.`);
    }
  }
  if (save) requireGuest(env, t, "--save");
  const notes: string[] = [];
  const saved: string[] = [];
  try {
    for (const c of changes) {
      if (c.res.kind === "guest") setGuestLimit(c, t);
      else {
        const n = setProcessLimit(c, t);
        notes.push(`--${c.res.name} applies to the ${n} process${n === 1 ? "" : "es"} running in ${t.label} and to what they start; 'vserver ${t.name ?? "NAME"} exec' still starts processes with the value the guest was started with${save ? " until its next start" : ""}.`);
      }
      if (save) saved.push(...saveLimit(env, t.name!, c));
    }
    journal(env, t, "limit", true, { set: changes.map((c) => ({ res: c.res.name, which: c.which, value: c.value ?? "inf" })), saved });
  } catch (e) {
    journal(env, t, "limit", false, { error: (e as Error).message });
    throw e;
  }
  return { notes, saved };
}

function saveLimit(env: Env, name: string, c: LimitChange): string[] {
  const v = `${c.value === undefined ? "inf" : c.value}\n`;
  const dir = cfgDirOf(env, name);
  if (c.res.name === "cpu-shares") return [writeConfigFile(env, name, "cgroup/cpu.shares", v)];
  if (c.res.kind === "guest") {
    // One value for the pair: drop .soft/.hard files that would disagree with it.
    for (const s of [".soft", ".hard"]) rmSync(`${dir}/rlimits/${c.res.name}${s}`, { force: true });
    return [writeConfigFile(env, name, `rlimits/${c.res.name}`, v)];
  }
  if (c.which === "both") {
    for (const s of [".soft", ".hard"]) rmSync(`${dir}/ulimits/${c.res.name}${s}`, { force: true });
    return [writeConfigFile(env, name, `ulimits/${c.res.name}`, v)];
  }
  // Only one half: keep the other half as it is configured now.
  const out: string[] = [];
  const both = `${dir}/ulimits/${c.res.name}`;
  if (existsSync(both)) {
    const old = readFileSync(both, "utf8");
    rmSync(both);
    const other = c.which === "soft" ? ".hard" : ".soft";
    if (!existsSync(`${both}${other}`)) out.push(writeConfigFile(env, name, `ulimits/${c.res.name}${other}`, old));
  }
  out.push(writeConfigFile(env, name, `ulimits/${c.res.name}.${c.which}`, v));
  return out;
}

/** Read limit files util-vserver style (<res>, <res>.soft, <res>.hard, <res>.min) from a directory. */
export function limitsFromDir(dir: string, missingOk: boolean, already: Set<string>): LimitChange[] {
  if (!existsSync(dir)) {
    if (missingOk) return [];
    throw new NotFoundError(`--dir: ${dir} does not exist.`);
  }
  const out: LimitChange[] = [];
  for (const res of RESOURCES) {
    if (already.has(res.name)) continue;
    for (const [suffix, which] of [["", "both"], [".hard", "hard"], [".soft", "soft"], [".min", "min"]] as const) {
      const file = `${dir}/${res.name}${suffix}`;
      if (!existsSync(file)) continue;
      if (res.kind === "none") throw new UsageError(`${file}: ${res.name} has no per-guest limit on today's kernel.`);
      if (which === "min") throw new UsageError(`${file}: a guaranteed minimum (.min) is not supported; only limits are.`);
      const raw = list(readFileSync(file, "utf8"))[0] ?? "";
      const p = parseLimitValue(raw);
      if (!p.ok) throw new ConfigError(`${file}: '${raw}' is not a limit (a number or inf).`, { file });
      out.push({ res, which: res.kind === "guest" ? "both" : which, value: p.value });
    }
  }
  return out;
}

/** The guest's CPU cap now, as a share of each CPU; undefined when it has none. */
export function readCpuCap(t: LiveTarget, cpus: number): number | undefined {
  if (isV2("cpu")) {
    const [quota, period] = readCg(cgFile("cpu", "cpu.max", t)).split(/\s+/);
    return quota === "max" ? undefined : Number(quota) / Number(period) / cpus;
  }
  const quota = Number(readCg(cgFile("cpu", "cpu.cfs_quota_us", t)));
  return quota < 0 ? undefined : quota / Number(readCg(cgFile("cpu", "cpu.cfs_period_us", t))) / cpus;
}

/**
 * vsched: cap the running guest at `share` of each CPU (undefined lifts the cap), and with save
 * write sched/fill-rate and sched/interval. The ratio is what counts: it is saved as given.
 */
export function setCpuCap(env: Env, t: LiveTarget, cap: { share: number; fillRate: number; interval: number } | undefined, cpus: number, save: boolean): string[] {
  if (save) requireGuest(env, t, "--save");
  try {
    const quota = cap ? cpuQuotaUs(cap.share, cpus) : undefined;
    if (isV2("cpu")) {
      writeCg(cgFile("cpu", "cpu.max", t), `${quota ?? "max"} ${CPU_PERIOD_US}`, `a CPU cap of ${quota ?? "max"}/${CPU_PERIOD_US} µs`, t);
    } else {
      writeCg(cgFile("cpu", "cpu.cfs_period_us", t), String(CPU_PERIOD_US), `a CPU period of ${CPU_PERIOD_US} µs`, t);
      writeCg(cgFile("cpu", "cpu.cfs_quota_us", t), String(quota ?? -1), `a CPU quota of ${quota ?? -1} µs`, t);
    }
    const saved: string[] = [];
    if (save) {
      const dir = cfgDirOf(env, t.name!);
      if (cap) {
        saved.push(writeConfigFile(env, t.name!, "sched/fill-rate", `${cap.fillRate}\n`), writeConfigFile(env, t.name!, "sched/interval", `${cap.interval}\n`));
      } else {
        for (const f of ["fill-rate", "interval"]) rmSync(`${dir}/sched/${f}`, { force: true });
      }
    }
    journal(env, t, "sched", true, { cpuShare: cap?.share ?? "inf", quotaUs: quota ?? "max", saved });
    return saved;
  } catch (e) {
    journal(env, t, "sched", false, { error: (e as Error).message });
    throw e;
  }
}

// vuname, vlimit and vattribute: reading and changing a running guest's UTS names, limits and
// capabilities/flags, and (with --save) writing the same value into its config. What the kernel
// cannot change in a running guest is refused with the reason, never silently skipped.
//
// The guest is reached only through the kernel's handles on it: its UTS namespace (nsenter --uts
// runs a host binary with the host's file system, only the UTS namespace switched), its cgroup
// files, and prlimit(2) on its processes. No path inside the guest's root is ever opened.

import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { ConfigError, NotFoundError, ToolError, UsageError } from "../errors";
import { cgroupPids } from "../drivers/cgroup/guest-cgroups";
import { cgroupHost, hierarchyFor } from "../drivers/cgroup/hierarchies";
import { writeConfigEntries } from "../drivers/config-store";
import { record } from "../drivers/journal";
import { lastLine, run } from "../drivers/process";
import { ALL_CFLAGS } from "../pure/config/cflags";
import { applyCapabilityList, DEFAULT_CAPABILITIES, normaliseCapName } from "../pure/config/capabilities";
import { list } from "../pure/config/values";
import {
  capsFromMask, editConfigList, memoryBytesToPages, PAGE_SIZE, parseLimitValue, parseProcLimits, RESOURCES,
  sharesToWeight, weightToShares, utsRefusal, utsValueProblem, type LimitRow, type ResourceInfo, type UtsTag,
} from "../pure/live-settings";
import { resolveContext } from "./context-tools";
import type { Env } from "./env";
import { cfgDirOf, loadGuest } from "./guests";
import { setPrivateFlag } from "../drivers/run-state";

export interface LiveTarget {
  context: number;
  /** Guest name; undefined for a chcontext context. */
  name?: string;
  /** A process of the context: the guest's PID 1, else the first in its cgroup. */
  pid: number;
  cgroupPath: string;
  label: string;
}

/** A running context named by guest name or number (never the host). */
export function liveTarget(env: Env, spec: string): LiveTarget {
  const ref = resolveContext(env, spec);
  if (ref.context === 0) throw new UsageError("context 0 is the host; use hostname, ulimit or prlimit on the host itself.");
  const pid = ref.rec?.pid ?? cgroupPids(ref.cgroupPath)[0];
  if (pid === undefined) throw new NotFoundError(`context ${ref.context} has no processes.`);
  const label = ref.name ? `guest '${ref.name}'` : `context ${ref.context}`;
  return { context: ref.context, name: ref.name, pid, cgroupPath: ref.cgroupPath, label };
}

function requireGuest(t: LiveTarget, what: string): string {
  if (!t.name) throw new UsageError(`${what}: context ${t.context} is not a guest (it was made by chcontext), so it has no config to write.`);
  return t.name;
}

function writeConfigFile(env: Env, name: string, rel: string, content: string): string {
  const dir = cfgDirOf(env, name);
  writeConfigEntries(dir, [[rel, { kind: "file", content, executable: false }]]);
  return `${dir}/${rel}`;
}

function journal(env: Env, t: LiveTarget, op: string, ok: boolean, extra: Record<string, unknown>): void {
  record(env.paths.logDir, { op, guest: t.name, context: t.context, ok, ...extra });
}

// ---- UTS -------------------------------------------------------------------------------------

function nsenterUts(pid: number, argv: string[], input?: string): string {
  const r = run(["nsenter", "--uts", `--target=${pid}`, "--", ...argv], { stdin: input ?? "ignore", timeout: 10 });
  if (r.code !== 0) throw new ToolError(`cannot enter the UTS namespace of process ${pid}: ${lastLine(r.stderr) || `exit status ${r.code}`}`);
  return r.stdout;
}

/** Every UTS field of the context, util-vserver's order. */
export function readUts(env: Env, t: LiveTarget): Record<UtsTag, string> {
  const [nodename, domainname] = nsenterUts(t.pid, ["cat", "/proc/sys/kernel/hostname", "/proc/sys/kernel/domainname"]).split("\n");
  const k = (f: string) => readFileSync(`/proc/sys/kernel/${f}`, "utf8").trim();
  const machine = run(["uname", "-m"]).stdout.trim();
  return {
    context: t.name ? cfgDirOf(env, t.name) : String(t.context),
    sysname: k("ostype"), nodename: nodename ?? "", release: k("osrelease"), version: k("version"), machine,
    domainname: domainname ?? "",
  };
}

/** Set UTS fields live (nodename, domainname); with save also write uts/<tag> into the config. */
export function setUts(env: Env, t: LiveTarget, values: Array<[UtsTag, string]>, save: boolean): string[] {
  for (const [tag, value] of values) {
    const why = utsRefusal(tag);
    if (why) throw new UsageError(why);
    const problem = utsValueProblem(tag, value);
    if (problem) throw new UsageError(`${tag}: '${value}' is not usable (${problem}).`);
  }
  if (save) requireGuest(t, "--save");
  const written: string[] = [];
  try {
    for (const [tag, value] of values) {
      nsenterUts(t.pid, ["tee", `/proc/sys/kernel/${tag === "nodename" ? "hostname" : "domainname"}`], value);
      if (save) written.push(writeConfigFile(env, t.name!, `uts/${tag}`, `${value}\n`));
    }
    journal(env, t, "uname", true, { set: Object.fromEntries(values), saved: written });
    return written;
  } catch (e) {
    journal(env, t, "uname", false, { error: (e as Error).message });
    throw e;
  }
}

// ---- limits ----------------------------------------------------------------------------------

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
    const cause = /not permitted/i.test(r.stderr) && !holdsCapability(24)
      ? " (raising a hard limit needs CAP_SYS_RESOURCE, which vlimit does not hold here; lowering works)"
      : "";
    throw new ToolError(`cannot set --${c.res.name} ${v} for process ${pid} of ${t.label}: ${lastLine(r.stderr)}${cause}.`);
  }
  return n;
}

/** Whether this process holds a capability (by bit number) in its effective set. */
function holdsCapability(bit: number): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
  return !!m && ((BigInt(`0x${m[1]}`) >> BigInt(bit)) & 1n) === 1n;
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
  }
  if (save) requireGuest(t, "--save");
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


// ---- attributes ------------------------------------------------------------------------------

export interface Attributes {
  /** The bounding set of the guest's PID 1 now. */
  live: string[];
  /** What the config gives at the next start, when it differs. */
  nextStart?: string[];
  flags: string[];
}

export function readAttributes(env: Env, t: LiveTarget): Attributes {
  const status = readFileSync(`/proc/${t.pid}/status`, "utf8");
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status);
  if (!m) throw new ToolError(`cannot read the capabilities of process ${t.pid}.`);
  const live = capsFromMask(m[1]!);
  const out: Attributes = { live, flags: [] };
  if (t.name) {
    const dir = cfgDirOf(env, t.name);
    const bfile = `${dir}/bcapabilities`;
    const items = existsSync(bfile) ? list(readFileSync(bfile, "utf8")) : [];
    const next = applyCapabilityList(DEFAULT_CAPABILITIES, items, bfile);
    if (next.join() !== live.join()) out.nextStart = next;
    const ffile = existsSync(`${dir}/cflags`) ? `${dir}/cflags` : `${dir}/flags`;
    out.flags = existsSync(ffile) ? list(readFileSync(ffile, "utf8")) : [];
  }
  return out;
}

export interface AttributeEdits {
  bcaps: Array<{ name: string; negate: boolean }>;
  flags: Array<{ name: string; negate: boolean }>;
}

/**
 * vattribute --set: the bounding set of a running process can only be lowered by that process
 * itself (prctl PR_CAPBSET_DROP) and never raised, so nothing is changed live; the edits go into
 * bcapabilities/cflags for the next start. The `private` flag is the exception: it is a rule of our
 * own exec and enter, kept in the running guest's run records, which are changed at once too.
 */
export function saveAttributes(env: Env, t: LiveTarget, edits: AttributeEdits): { saved: string[]; notes: string[] } {
  const name = requireGuest(t, "--set");
  const dir = cfgDirOf(env, name);
  const saved: string[] = [];
  const notes: string[] = [];
  for (const b of edits.bcaps) {
    const low = b.name.toLowerCase();
    if (low !== "all" && low !== "any" && low !== "none") normaliseCapName(b.name, "--bcap");
  }
  for (const f of edits.flags) {
    const n = f.name.toLowerCase().replace(/^vxf_/, "");
    if (!ALL_CFLAGS.has(n)) throw new UsageError(`--flag: '${f.name}' is not a context flag.`);
  }
  const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : undefined);
  try {
    if (edits.bcaps.length) {
      const capCanon = (s: string) => s.trim().toUpperCase().replace(/^CAP_/, "");
      const content = editConfigList(read(`${dir}/bcapabilities`), edits.bcaps, capCanon);
      saved.push(writeConfigFile(env, name, "bcapabilities", content));
      notes.push(`bcapabilities of ${t.label} saved for its next start; the running guest keeps its bounding set: the kernel never lets a capability be added back to a running process, and only a process itself can drop one from its own bounding set.`);
    }
    if (edits.flags.length) {
      const flagCanon = (s: string) => s.trim().toLowerCase().replace(/^vxf_/, "").replace(/^info_/, "");
      const file = existsSync(`${dir}/cflags`) || !existsSync(`${dir}/flags`) ? "cflags" : "flags";
      const content = editConfigList(read(`${dir}/${file}`), edits.flags, flagCanon);
      saved.push(writeConfigFile(env, name, file, content));
      const now = edits.flags.filter((f) => flagCanon(f.name) === "private").map((f) => f.name);
      const later = edits.flags.filter((f) => flagCanon(f.name) !== "private").map((f) => `${f.negate ? "~" : ""}${f.name}`);
      if (now.length) {
        if (t.name) setPrivateFlag(env.paths, t.name, loadGuest(env, t.name).cflags.has("private"));
        notes.push(`the change of the 'private' flag holds at once for exec and enter.`);
      }
      if (later.length) notes.push(`flags ${later.join(", ")} of ${t.label} saved for its next start; they are fixed when the guest starts (seccomp, namespaces) and cannot change in a running guest.`);
    }
    journal(env, t, "attribute", true, { bcaps: edits.bcaps, flags: edits.flags, saved });
  } catch (e) {
    journal(env, t, "attribute", false, { error: (e as Error).message });
    throw e;
  }
  return { saved, notes };
}

// The OCI runtime (crun by default, runc as the alternative), driven through its command line.
// Every call goes through one argv builder so that the state directory, the cgroup manager and
// the hidden-cgroup2 view (cgroup-view.ts) are the same for all calls on a container.

import type { Ulimit } from "../../pure/config/guest-config";
import { closeSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { ToolError } from "../../errors";
import { run, runInteractive, runOk, which } from "../process";
import { cgroupHost } from "../cgroup/hierarchies";
import { ensureView, needsHiddenView, viewIsLive, viewPaths, type ViewPaths } from "./cgroup-view";
import { joinCgroupArgv } from "../net/socket-cgroup";

export type RuntimeName = "crun" | "runc";

export interface Runtime {
  name: RuntimeName;
  binary: string;
  stateDir: string;
  /** Set when crun must run in the hidden-cgroup2 view. */
  view?: ViewPaths;
  /**
   * For one guest: the cgroup2 directory its processes must be born in (its socket programs,
   * drivers/net/socket-cgroup.ts). The run and exec commands join it before anything else.
   */
  joinCgroup2?: string;
}

export interface ContainerState {
  status: "created" | "running" | "stopped" | "paused" | string;
  pid: number;
}

export function chooseRuntime(stateDir: string, configured?: string): Runtime {
  const want = (configured ?? process.env.VSERVER_RUNTIME ?? "").trim();
  if (want && want !== "crun" && want !== "runc") {
    throw new ToolError(`unknown OCI runtime '${want}' (VSERVER_RUNTIME or .defaults/runtime must say crun or runc).`);
  }
  const order: RuntimeName[] = want ? [want as RuntimeName] : ["crun", "runc"];
  for (const name of order) {
    const binary = which(name);
    if (!binary) continue;
    const rt: Runtime = { name, binary, stateDir: `${stateDir}/${name}` };
    if (needsHiddenView(cgroupHost(), name)) rt.view = viewPaths(stateDir);
    return rt;
  }
  throw new ToolError(`no OCI runtime found: install crun (or runc); 'make' does this.`);
}

function prefix(rt: Runtime, create: boolean): string[] {
  if (!rt.view) return [];
  if (create) return ensureView(rt.view, cgroupHost().unified!.mount);
  if (!viewIsLive(rt.view)) return []; // nothing can be running: calls will find no container
  return ["nsenter", `--mount=${rt.view.file}`, "--"];
}

function bareArgv(rt: Runtime, args: string[]): string[] {
  const global = ["--root", rt.stateDir];
  if (rt.name === "crun") global.push("--cgroup-manager=cgroupfs");
  return [rt.binary, ...global, ...args];
}

/** argv run in the mount namespace the runtime runs in (its cgroup view, where there is one). */
export function inRuntimeNamespace(rt: Runtime, argv: string[], create = false): string[] {
  return [...prefix(rt, create), ...argv];
}

export function runtimeArgv(rt: Runtime, args: string[], create = false): string[] {
  return [...prefix(rt, create), ...bareArgv(rt, args)];
}

export function containerState(rt: Runtime, id: string): ContainerState | undefined {
  if (!existsSync(`${rt.stateDir}/${id}`)) return undefined;
  const r = run(runtimeArgv(rt, ["state", id]));
  if (r.code !== 0) return undefined;
  try {
    const s = JSON.parse(r.stdout);
    return { status: s.status, pid: s.pid };
  } catch {
    return undefined;
  }
}

/** PID 1 of a container just created or run, from the --pid-file the runtime wrote into its bundle. */
export function pidFromBundle(bundle: string): number | undefined {
  try {
    const n = Number(readFileSync(`${bundle}/pid`, "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export function listContainers(rt: Runtime): string[] {
  if (!existsSync(rt.stateDir)) return [];
  const r = run(runtimeArgv(rt, ["list", "-q"]));
  return r.code === 0 ? r.stdout.split("\n").map((l) => l.trim()).filter(Boolean) : [];
}

/**
 * The runtime's own error messages, from its --log file. Its stderr cannot be a pipe we read: the
 * guest inherits it and would hold it open for its whole life.
 */
function runtimeError(logFile: string, fallback: string): string {
  try {
    const lines = readFileSync(logFile, "utf8").split("\n").filter(Boolean);
    for (let i = lines.length - 1; i >= 0; i--) {
      const l = lines[i]!;
      try {
        const j = JSON.parse(l);
        if (j.level === "error" || j.level === "fatal" || !j.level) return String(j.msg ?? l);
      } catch {
        return l;
      }
    }
  } catch {}
  return fallback;
}

/** The runtime's command with its errors logged as JSON to logFile (read back by runtimeError). */
function bareLogged(rt: Runtime, logFile: string, args: string[]): string[] {
  const argv = bareArgv(rt, args);
  argv.splice(1, 0, `--log=${logFile}`, "--log-format=json");
  return argv;
}

function withLog(rt: Runtime, logFile: string, args: string[], create: boolean, nice?: number): string[] {
  return niced([...prefix(rt, create), ...bareLogged(rt, logFile, args)], nice);
}

/**
 * The guest's per-process limits for a command exec'd into it. The runtimes apply config.json's
 * rlimits to PID 1 only; prlimit(1) sets them on the runtime's exec, and the command inherits.
 */
function withRlimits(argv: string[], rlimits: Ulimit[]): string[] {
  if (!rlimits.length) return argv;
  const v = (n: number) => (n >= Number.MAX_SAFE_INTEGER ? "unlimited" : String(n));
  return ["prlimit", ...rlimits.map((r) => `--${r.type.replace(/^RLIMIT_/, "").toLowerCase()}=${v(r.soft)}:${v(r.hard)}`), "--", ...argv];
}

/** Outermost, so the join happens on the host's side of the view, where cgroup2 is visible. */
function joined(rt: Runtime, argv: string[]): string[] {
  return rt.joinCgroup2 ? joinCgroupArgv(rt.joinCgroup2, argv) : argv;
}

/** The guest's nice level: set on the runtime, whose children (the guest's processes) inherit it. */
function niced(argv: string[], nice?: number): string[] {
  return nice ? ["nice", "-n", String(nice), ...argv] : argv;
}

/** The runtime's run/create command without the view or nice prefix. */
export function launchArgv(rt: Runtime, how: "run" | "create", id: string, bundle: string, preservedFds: number): string[] {
  const args = [how, ...(how === "run" ? ["--detach"] : []), ...(preservedFds ? [`--preserve-fds=${preservedFds}`] : []), "--pid-file", `${bundle}/pid`, "--bundle", bundle, id];
  return bareLogged(rt, `${bundle}/runtime.log`, args);
}

/** The runtime's `delete --force` without the view prefix. */
export function deleteArgv(rt: Runtime, id: string): string[] {
  return bareArgv(rt, ["delete", "--force", id]);
}

/**
 * Start a container detached (`run`), or only create it (`create`, for settings the OCI spec
 * cannot carry; `startContainer` follows). Its stdout and stderr (and those of PID 1) go to
 * logFd. With `statusPipe`, PID 1 gets the write end of a new pipe as fd 3 and the read end
 * (non-blocking) is returned: our guest init reports its start command there. With `execSocket`
 * too, PID 1 gets that listening socket as fd 4 (pure/guest-exec-protocol.ts).
 *
 * With `joinCgroup2`, the container is created, its PID 1 moved into that directory while it
 * still waits for `start` (so before anything of the guest's runs), and then started. Joining
 * the runtime itself instead would put its helper processes there too, whose zombies count as
 * the guest's processes on hosts whose init is slow to reap them.
 */
export async function launchContainer(rt: Runtime, how: "run" | "create", id: string, bundle: string, logFd: number, o: { nice?: number; statusPipe?: boolean; execSocket?: number } = {}): Promise<number | undefined> {
  const errLog = `${bundle}/runtime.log`;
  rmSync(errLog, { force: true });
  const step = rt.joinCgroup2 ? "create" : how;
  const argv = niced([...prefix(rt, true), ...launchArgv(rt, step, id, bundle, o.statusPipe ? (o.execSocket !== undefined ? 2 : 1) : 0)], o.nice);
  // stdin is an empty pipe, never the host's /dev/null: the runtime hands PID 1 its stdio as they
  // are, and in a user namespace even chowns them to the guest's root.
  const extra = o.statusPipe ? ["pipe" as const, ...(o.execSocket !== undefined ? [o.execSocket] : [])] : [];
  const p = Bun.spawn(argv, { stdio: ["pipe", logFd, logFd, ...extra] });
  (p.stdin as import("bun").FileSink).end();
  const code = await p.exited;
  const fd = o.statusPipe ? (p.stdio[3] as number) : undefined;
  if (code !== 0) {
    if (fd !== undefined) closeSync(fd);
    throw new ToolError(`${rt.name} could not ${how === "run" ? "start" : "create"} the guest: ${runtimeError(errLog, `exit status ${code}`)}`);
  }
  if (rt.joinCgroup2) {
    try {
      const pid = pidFromBundle(bundle);
      if (!pid) throw new ToolError(`${rt.name} created the guest but wrote no PID to ${bundle}/pid.`);
      writeFileSync(`${rt.joinCgroup2}/cgroup.procs`, String(pid));
      if (how === "run") startContainer(rt, id);
    } catch (e) {
      if (fd !== undefined) closeSync(fd);
      throw e;
    }
  }
  return fd;
}

/** Run a command in the guest detached from us: output to logFd; returns status and the runtime's error, if any. */
export function execLogged(rt: Runtime, id: string, args: string[], logFd: number, errLog: string, o: { timeoutSeconds?: number; noNewPrivs?: boolean; nice?: number } = {}): { code: number; error: string } {
  rmSync(errLog, { force: true });
  const timeoutSeconds = o.timeoutSeconds;
  const r = Bun.spawnSync(joined(rt, withLog(rt, errLog, ["exec", ...(o.noNewPrivs ? ["--no-new-privs"] : []), id, ...args], false, o.nice)), {
    stdin: "ignore", stdout: logFd, stderr: logFd,
    timeout: timeoutSeconds ? timeoutSeconds * 1000 : undefined, killSignal: "SIGKILL",
  });
  const code = r.exitCode ?? 137;
  return { code, error: code === 0 ? "" : runtimeError(errLog, "") };
}

export function startContainer(rt: Runtime, id: string): void {
  runOk(runtimeArgv(rt, ["start", id]), {}, `${rt.name} start`);
}

export function killContainer(rt: Runtime, id: string, signal: string, all: boolean): boolean {
  const args = ["kill", ...(all ? ["--all"] : []), id, signal.replace(/^SIG/, "")];
  return run(runtimeArgv(rt, args)).code === 0;
}

export function deleteContainer(rt: Runtime, id: string): void {
  run([...prefix(rt, false), ...deleteArgv(rt, id)]);
}

export interface ExecOptions {
  tty: boolean;
  /** Set no_new_privs on the new process (runtimes do not take it from config.json for exec). */
  noNewPrivs?: boolean;
  nice?: number;
  /** The guest's ulimits/: set on the runtime's exec, whose child (the command) inherits them. */
  rlimits?: Ulimit[];
  env?: string[];
  cwd?: string;
  user?: string;
  /** stdio of the runtime process: inherit, or fds. */
  stdio?: ["inherit" | "ignore" | number, "inherit" | "ignore" | number, "inherit" | "ignore" | number];
}

export function execArgv(rt: Runtime, id: string, args: string[], o: ExecOptions): string[] {
  const flags: string[] = [];
  if (o.tty) flags.push("--tty");
  if (o.noNewPrivs) flags.push("--no-new-privs");
  for (const e of o.env ?? []) flags.push("--env", e);
  if (o.cwd) flags.push("--cwd", o.cwd);
  if (o.user) flags.push("--user", o.user);
  return joined(rt, niced(withRlimits(runtimeArgv(rt, ["exec", ...flags, id, ...args]), o.rlimits ?? []), o.nice));
}

export async function execInteractive(rt: Runtime, id: string, args: string[], o: ExecOptions): Promise<number> {
  return runInteractive(execArgv(rt, id, args, o), { stdio: o.stdio });
}

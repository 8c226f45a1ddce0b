// The control plane: the one entry point for every operation on a guest, like the old
// multiplexed vserver() system call. Each operation is validated once, runs under the guest's
// lock when it changes state, and is recorded in the event journal, whatever its outcome. The
// CLI (and later an API) are thin layers over these functions.

import { existsSync, rmSync, mkdirSync } from "node:fs";
import { basename } from "node:path";
import { isTerminal } from "../drivers/terminal";
import { AlreadyRunningError, NotRunningError, UsageError, VsError } from "../errors";
import { acquireLock, type Lock } from "../drivers/lock";
import { record } from "../drivers/journal";
import { readConfigFile, writeConfigEntries } from "../drivers/config-store";
import { LEGACY_SCRIPT_FLAVOURS, legacyToEntries } from "../pure/config/legacy-conf";
import type { ConfigEntry } from "../pure/config/tree";
import type { Env } from "./env";
import { buildGuest, type BuildRequest, type BuildResult } from "./build";
import { checkName, cfgDirOf, guestExists, hasConfigDir, legacyFilesOf, loadGuest } from "./guests";
import { startGuest, type StartResult } from "./start";
import { stopGuest } from "./stop";
import { rescuePlan } from "./init-style";
import { enterShell, execInGuest, execPolicy, requireEnterable, requireRunning, type ExecRequest } from "./exec";
import { allStatuses, guestStatus, liveRecord, type GuestStatus } from "./info";
import { deleteGuest, type DeleteOptions } from "./delete";
import { settleAllExited, settleExited } from "./exited";
import { requirePackageCommand, requireProgram } from "./guest-programs";
import { deunifyGuest, hashifyGuest, lookupRoot, type HashifyResult } from "./unify";
import { collectGarbage, type GcResult } from "./unify-gc";
import { diskUse, type DiskUse } from "./unify-du";
import type { Progress } from "../drivers/unify/generation";
import { diskUsageOf, readDiskLimit, setDiskLimit, type DiskLimitState, type DiskUsage } from "./disk-limits";

/**
 * How an operation holds the guest: `lock` takes its lock; `existing` first requires the guest
 * to exist, so that a mistyped name fails without making the lock directory of an installation
 * that may not exist.
 */
interface Hold {
  lock: "none" | "take";
  existing: boolean;
}

async function operate<T>(env: Env, op: string, name: string, hold: Hold, fn: () => Promise<T>, detail: (r: T) => Record<string, unknown> = () => ({})): Promise<T> {
  checkName(name);
  let l: Lock | undefined;
  const began = performance.now();
  const ms = () => Math.round(performance.now() - began);
  try {
    if (hold.existing && !guestExists(env, name)) loadGuest(env, name); // throws the not-found error with its hint
    if (hold.lock === "take") {
      l = await acquireLock(env.paths.lockDir, name, `guest '${name}'`);
    }
    if (hold.existing) await settleExited(env, name, hold.lock === "take");
    const r = await fn();
    record(env.paths.logDir, { op, guest: name, ok: true, ms: ms(), ...detail(r) });
    return r;
  } catch (e) {
    record(env.paths.logDir, { op, guest: name, ok: false, ms: ms(), error: (e as Error).message, kind: (e as Error).name });
    throw e;
  } finally {
    l?.release();
  }
}

const NEW: Hold = { lock: "take", existing: false };
const CHANGE: Hold = { lock: "take", existing: true };
const USE: Hold = { lock: "none", existing: true };

export function build(env: Env, req: BuildRequest): Promise<BuildResult> {
  return operate(env, "build", req.name, NEW, () => buildGuest(env, req), (r) => ({ context: r.context, method: req.method }));
}

export function start(env: Env, name: string): Promise<StartResult> {
  return operate(env, "start", name, CHANGE, async () => startGuest(env, loadGuest(env, name, { reportWarnings: true })), (r) => ({ context: r.context, pid: r.pid }));
}

/** `start --rescue [--rescue-init] [CMD ARGS]`: the guest without its own init (control/init-style.ts rescuePlan). */
export function startRescue(env: Env, name: string, cmd: string[] | undefined, asInit: boolean): Promise<StartResult> {
  return operate(env, "start", name, CHANGE, async () => startGuest(env, loadGuest(env, name, { reportWarnings: true }), { plan: rescuePlan(cmd, asInit) }), (r) => ({ context: r.context, pid: r.pid, rescue: true }));
}

/** skipStopCommand: `stop --rescue-init`, straight to the kill sequence. */
export function stop(env: Env, name: string, opts: { skipStopCommand?: boolean } = {}): Promise<void> {
  return operate(env, "stop", name, CHANGE, async () => {
    await stopGuest(env, loadGuest(env, name, { reportWarnings: true }), opts);
  });
}

export function restart(env: Env, name: string, onlyIfRunning: boolean): Promise<StartResult | undefined> {
  return operate(env, onlyIfRunning ? "condrestart" : "restart", name, CHANGE, async () => {
    const g = loadGuest(env, name, { reportWarnings: true });
    try {
      await stopGuest(env, g);
    } catch (e) {
      if (!(e instanceof NotRunningError)) throw e;
      if (onlyIfRunning) return undefined;
    }
    return startGuest(env, g);
  });
}

/** `running`: answered from the run record alone, without reading the guest's config. */
export async function isRunning(env: Env, name: string): Promise<boolean> {
  checkName(name);
  if (!guestExists(env, name)) loadGuest(env, name); // throws the not-found error with its hint
  await settleExited(env, name, false);
  return liveRecord(env, name) !== undefined;
}

export async function status(env: Env, name: string): Promise<GuestStatus> {
  checkName(name);
  const g = loadGuest(env, name);
  await settleExited(env, name, false);
  return guestStatus(env, g);
}

/** `--list`: every guest, after the leftovers of guests that ended by themselves are removed. */
export async function list(env: Env): Promise<ReturnType<typeof allStatuses>> {
  await settleAllExited(env);
  return allStatuses(env);
}

export function exec(env: Env, name: string, req: ExecRequest): Promise<number> {
  return operate(env, "exec", name, USE, () => execInGuest(env, loadGuest(env, name), req), (code) => ({ argv0: req.argv[0], exit: code }));
}

/** `vserver NAME apt-get|rpm|yum ...`: the guest's own tool in the guest, or one sentence that it has none. */
export function guestTool(env: Env, name: string, argv: string[]): Promise<number> {
  return operate(env, "exec", name, USE, async () => {
    const g = loadGuest(env, name);
    requireProgram(g, argv[0]!, lookupRoot(env, g));
    return execInGuest(env, g, { argv });
  }, (code) => ({ argv0: argv[0], exit: code }));
}

/** `vserver NAME pkg install|remove PKG...`: the guest's own package tool, whichever it has. */
export function packages(env: Env, name: string, action: "install" | "remove", pkgs: string[]): Promise<number> {
  return operate(env, "exec", name, USE, async () => {
    const g = loadGuest(env, name);
    return execInGuest(env, g, { argv: requirePackageCommand(g, action, pkgs, lookupRoot(env, g)) });
  }, (code) => ({ argv0: "pkg", action, exit: code }));
}

export function enter(env: Env, name: string): Promise<number> {
  return operate(env, "enter", name, USE, async () => {
    const g = loadGuest(env, name);
    requireEnterable(g, execPolicy(g, requireRunning(env, g)), "enter");
    if (!isTerminal(0)) throw new UsageError("enter needs a terminal on standard input; use 'exec' for commands.");
    return execInGuest(env, g, { argv: await enterShell(env, g), tty: true });
  });
}

export function remove(env: Env, name: string, o: DeleteOptions): Promise<boolean> {
  return operate(env, "delete", name, CHANGE, () => deleteGuest(env, loadGuest(env, name), o));
}

/**
 * Write /etc/vservers/NAME/ from a legacy NAME.conf (read as data, never executed). Both legacy
 * files stay: NAME.conf for the original tools or a look back, and NAME.sh, which the directory's
 * scripts/ hooks of its four flavours link to, so it keeps running where it ran before.
 */
export function convert(env: Env, name: string): Promise<string[]> {
  return operate(env, "convert", name, NEW, async () => {
    const { conf, script } = legacyFilesOf(env, name);
    if (!existsSync(conf)) throw new VsError(`there is no legacy config ${conf} to convert.`, { guest: name, file: conf });
    if (hasConfigDir(env, name)) throw new AlreadyRunningError(`guest '${name}' already has a config directory (${cfgDirOf(env, name)}); nothing converted.`, { guest: name });
    const res = legacyToEntries(readConfigFile(conf), conf);
    const hooks: Array<[string, ConfigEntry]> = existsSync(script)
      ? LEGACY_SCRIPT_FLAVOURS.map((f) => [`scripts/${f}`, { kind: "link", target: `../../${basename(script)}` }])
      : [];
    const dir = cfgDirOf(env, name);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    try {
      writeConfigEntries(dir, [...res.entries, ...hooks, ["vdir", { kind: "link", target: `${env.paths.vdirBase}/${name}` }]]);
      loadGuest(env, name); // the result must parse
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    return [
      ...res.skipped.map((s) => `${conf}:${s.line}: shell code is not run; line skipped: ${s.text}`),
      ...res.warnings.map((w) => `${w.file}: ${w.message}; not converted`),
      ...(hooks.length ? [`${dir}/scripts: pre-start, post-start, pre-stop and post-stop link to ${script}, which is kept and runs as before`] : []),
    ];
  });
}

/** `vserver NAME hashify`, `vhashify NAME`, `vserver NAME unify`: the guest's files into the store. */
export function hashify(env: Env, name: string, progress?: Progress): Promise<HashifyResult> {
  return operate(env, "hashify", name, CHANGE, () => hashifyGuest(env, loadGuest(env, name), progress), (r) => ({ files: r.files, newObjects: r.newObjects }));
}

/** `vserver NAME unify -R`: a plain tree again. */
export function deunify(env: Env, name: string): Promise<void> {
  return operate(env, "unify-R", name, CHANGE, () => deunifyGuest(env, loadGuest(env, name)));
}

/** `vdu NAME`: read-only, without the guest's lock (the numbers are a moment's). */
export function du(env: Env, name: string): Promise<DiskUse> {
  return operate(env, "vdu", name, USE, async () => diskUse(env, loadGuest(env, name)));
}

/** `vdlimit --xid X DIR`: the guest's disk use and limit (its root's btrfs qgroup). */
export function diskLimit(env: Env, name: string): Promise<DiskLimitState> {
  return operate(env, "vdlimit", name, USE, async () => readDiskLimit(env, loadGuest(env, name)));
}

/** Disk use and limits of guests (their roots' btrfs qgroups) for the API's views and /metrics: read-only, not journaled, as `list`. */
export function diskUsage(env: Env, guests: Array<{ name: string; vdir: string }>): Map<string, DiskUsage> {
  return diskUsageOf(env, guests);
}

/** `vdlimit --set space_total=N` (bytes here) or `--remove` (undefined): live, running or not. */
export function setDiskLimitOf(env: Env, name: string, bytes: number | undefined): Promise<void> {
  return operate(env, "vdlimit-set", name, USE, async () => setDiskLimit(env, loadGuest(env, name), bytes), () => ({ limitBytes: bytes ?? null }));
}

/** `vhashify --gc`: objects no guest refers to are removed. */
export async function gc(env: Env): Promise<GcResult> {
  try {
    const r = await collectGarbage(env);
    record(env.paths.logDir, { op: "gc", ok: true, removed: r.removed, freedBytes: r.freedBytes });
    return r;
  } catch (e) {
    record(env.paths.logDir, { op: "gc", ok: false, error: (e as Error).message, kind: (e as Error).name });
    throw e;
  }
}

// `vserver NAME start` (reference §6.2, in what a user can observe): hooks at their points, the
// guest's mounts, limits and namespaces through the OCI runtime, its services started by its
// init style, and on any failure everything removed again.

import { availableParallelism } from "node:os";
import { closeSync, fchmodSync, fchownSync, mkdirSync, openSync, existsSync, statSync } from "node:fs";
import { appendLog } from "../drivers/log-file";
import { writeFileAtomic } from "../drivers/atomic-file";
import { AlreadyRunningError, ConfigError, NotFoundError, ToolError, VsError } from "../errors";
import { guestCgroupPath, writeCgroupFiles } from "../drivers/cgroup/guest-cgroups";
import { runHooks, type HookContext } from "../drivers/hooks";
import { allRunRecords, isAlive, writeRunRecord, type RunRecord } from "../drivers/run-state";
import { policyFromConfig } from "./exec";
import { procStartTime } from "../drivers/proc-pid";
import { launchContainer, pidFromBundle, startContainer } from "../drivers/runtime/oci-runtime";
import { awaitStartReport, guestInitBinary } from "../drivers/guest-init";
import { scopedInitArgv } from "../pure/guest-init";
import { settingFile, type GuestConfig } from "../pure/config/guest-config";
import { nextFreeContext, DYNAMIC_MIN, DYNAMIC_MAX } from "../pure/context-alloc";
import { buildOciSpec } from "../pure/spec/oci-spec";
import { fstabEntryOfMountError } from "../pure/config/fstab";
import { missingMountPoints, removeMountPoints } from "../drivers/mount-points";
import { boundingSet, hostMemoryBytes } from "../drivers/host-facts";
import type { Env } from "./env";
import { initPlan, type InitPlan } from "./init-style";
import { logFileOf, startCommandError } from "./guest-commands";
import { attachGuestNetwork, setupGuestNetwork } from "./network";
import { bundleDir, teardownGuest } from "./teardown";
import { listenExecSocket } from "../drivers/guest-exec-client";
import { guestPaths } from "../pure/paths";
import { viewLock } from "./runtime-view";
import { clearLeftovers, observeGuest } from "./guest-state";
import { faultPoint } from "../drivers/fault";
import { contextsMappedOnHost, contextsOfHostUsers, guestIds, refuseIdsInUse } from "./guest-ids";
import { checkBarrier } from "./barrier-check";
import { openLowPorts } from "../drivers/net/low-ports";
import { mountForUserns, usernsMountPaths } from "../drivers/userns-mounts";
import { settleUnify, unifyPathsOf } from "./unify";
import { applyDiskLimits } from "./disk-limits";
import { ensureRebootWatch } from "../drivers/bpf/reboot-watch";
import { ownInitIsSystemd, systemdCgroupFor, SYSTEMD_HALT_SIGNAL, warnSystemdCapabilities } from "./own-systemd";

export interface StartResult {
  context: number;
  pid: number;
  log: string;
}

export function hookContext(env: Env, g: GuestConfig, context?: number): HookContext {
  const base = { name: g.name, defaultsDir: env.paths.defaultsDir, vdir: g.vdir, context, log: logFileOf(env, g.name) };
  // A legacy guest has no directory: its hooks see the one that holds its NAME.conf and NAME.sh.
  return g.legacy ? { ...base, cfgDir: env.paths.confDir, legacyScript: g.legacy.script } : { ...base, cfgDir: g.cfgDir };
}

function unameMachine(): string {
  return process.arch === "arm64" ? "aarch64" : "x86_64";
}

function pickContext(env: Env, g: GuestConfig): number {
  const others = allRunRecords(env.paths).filter((r) => r.name !== g.name && isAlive(r));
  if (g.context !== undefined) {
    const clash = others.find((r) => r.context === g.context);
    if (clash) {
      throw new ConfigError(`${settingFile(g, "context")}: context ${g.context} is already used by the running guest '${clash.name}'.`, { guest: g.name, file: settingFile(g, "context") });
    }
    return g.context;
  }
  const hostUsers = g.userNamespace ? [...contextsOfHostUsers(), ...contextsMappedOnHost()] : [];
  const n = nextFreeContext([...others.map((r) => r.context), ...hostUsers], { start: DYNAMIC_MIN, max: DYNAMIC_MAX });
  if (n === undefined) throw new VsError("no free dynamic context number is left.", { guest: g.name });
  return n;
}

/**
 * A guest cannot hold a capability the host's root lacks (a container host may itself be confined):
 * the runtime's capset would fail with a bare EPERM. Such capabilities are dropped with a warning.
 */
function withinHostCapabilities(env: Env, g: GuestConfig): GuestConfig {
  const host = boundingSet();
  if (!host) return g;
  const missing = g.capabilities.filter((c) => !host.includes(c));
  if (!missing.length) return g;
  env.warn(`${settingFile(g, "bcapabilities")}: this host's root lacks ${missing.map((c) => `CAP_${c}`).join(", ")}, so guest '${g.name}' cannot have ${missing.length > 1 ? "them" : "it"} either.`);
  return { ...g, capabilities: g.capabilities.filter((c) => !missing.includes(c)) };
}

function reclaimLog(fd: number): void {
  fchownSync(fd, 0, 0);
  fchmodSync(fd, 0o640);
}

/** `plan` replaces the init style's (a rescue start, control/init-style.ts). */
export async function startGuest(env: Env, g: GuestConfig, opts: { plan?: InitPlan } = {}): Promise<StartResult> {
  const rt = env.runtime();
  const seen = observeGuest(env, g.name, g.context);
  if (seen.running) {
    throw new AlreadyRunningError(`guest '${g.name}' is already running.`, { guest: g.name });
  }
  // A unified guest's root is an overlay mounted below (docs/unification.md); its vdir is empty.
  const unified = settleUnify(env, g);
  if (!existsSync(g.vdir) || !statSync(g.vdir).isDirectory()) {
    throw new NotFoundError(`the root of guest '${g.name}' (${g.vdir}) does not exist; build the guest first.`, { guest: g.name, file: `${g.cfgDir}/vdir` });
  }
  checkBarrier(env, g);
  applyDiskLimits(env, g);
  const context = pickContext(env, g);
  const idRange = g.userNamespace ? guestIds(g, context) : undefined;
  // Leftovers of a start or stop that was killed: clear them before anything new is made.
  await clearLeftovers(env, g.name, seen, "start");
  if (idRange) refuseIdsInUse(g, context, idRange);

  const log = logFileOf(env, g.name);
  appendLog(log, `=== ${new Date().toISOString()} start of '${g.name}' (context ${context})\n`);
  const hooks = hookContext(env, g, context);
  runHooks(hooks, "initialize");
  runHooks(hooks, "prepre-start");

  g = withinHostCapabilities(env, g);
  const plan = opts.plan ?? initPlan(g);
  const cgroupsPath = guestCgroupPath(env.paths.cgroupParent, context);
  let created = false;
  let logFd = -1;
  let statusFd: number | undefined;
  let execSocket: number | undefined;
  let newMountPoints: string[] = [];
  try {
    const net = await setupGuestNetwork(env, g, context, cgroupsPath, { scopeUnixFile: scopeUnixRequest(g, plan, !!opts.plan) });
    const pid1 = net.scopedUnix ? scopedInitArgv(plan.pid1) : plan.pid1;
    // Everything the runtime starts in a guest with socket programs is born under them.
    const grt = net.socketCgroup ? { ...rt, joinCgroup2: net.socketCgroup } : rt;
    if (idRange && net.netnsPath && g.capabilities.includes("NET_BIND_SERVICE")) openLowPorts(net.netnsPath);
    const mounts = idRange || unified ? usernsMountPaths(env.paths, g.name) : undefined;
    const ids = idRange && mounts && { range: idRange, root: mounts.root, sysfs: net.netnsPath ? mounts.sysfs : undefined };
    // A unified guest's root is not mounted yet: its init is not looked at (docs/runtime.md).
    const systemd = !opts.plan && !unified && ownInitIsSystemd(plan, g.vdir);
    const systemdCgroup = systemd ? systemdCgroupFor(g, cgroupsPath, idRange) : undefined;
    if (systemd) warnSystemdCapabilities(env, g);
    const spec = buildOciSpec(g, {
      cgroupsPath,
      guestInitPath: plan.guestInit ? guestInitBinary() : "",
      hostMemoryBytes: hostMemoryBytes(),
      arch: unameMachine(),
      cpus: availableParallelism(),
      netnsPath: net.netnsPath,
      args: pid1,
      ids,
      rootPath: unified && mounts ? mounts.root : undefined,
      runtime: rt.name,
      systemdCgroup,
    });
    const bundle = bundleDir(env, g.name);
    mkdirSync(bundle, { recursive: true, mode: 0o700 });
    writeFileAtomic(`${bundle}/config.json`, JSON.stringify(spec, null, 1));

    runHooks(hooks, "pre-start");
    const rebootWatch = !opts.plan && (await watchReboots(env, g, plan));
    // A unified guest's mount points are made by the runtime in its upper, which keeps them.
    if (!unified) newMountPoints = missingMountPoints(g.vdir, ((spec.mounts ?? []) as Array<{ destination: string }>).map((m) => m.destination));
    faultPoint("start.before-runtime");

    logFd = openSync(log, "a", 0o640);
    const lock = await viewLock(env);
    try {
      created = true;
      if (mounts) {
        const layers = unified && { gen: unified.dir, store: unifyPathsOf(env, g.name).store };
        mountForUserns(env.paths, rt, mounts, { vdir: g.vdir, range: idRange, netnsPath: net.netnsPath, unified: layers || undefined });
      }
      const how = g.cgroupFiles.length ? "create" : "run";
      // Our init serves exec itself, on a socket only the host can reach (drivers/guest-exec-client.ts).
      if (plan.guestInit) execSocket = listenExecSocket(guestPaths(env.paths, g.name).execSocket);
      statusFd = await launchContainer(grt, how, g.name, bundle, logFd, { nice: g.nice, statusPipe: plan.guestInit, execSocket });
      if (how === "create") {
        writeCgroupFiles(cgroupsPath, g.cgroupFiles, g.cfgDir);
        startContainer(rt, g.name);
      }
    } finally {
      lock.release();
      // PID 1 keeps the log as its stdout and stderr. In a user namespace the runtime chowns its
      // stdio to the guest's root; given back to the host's root, the file is one the guest can
      // only write to through that descriptor: not reopen, chmod or chown (docs/security.md).
      if (idRange) reclaimLog(logFd);
    }
    faultPoint("start.after-runtime");
    // The pid file saves asking the runtime for its state (one process spawn fewer per start).
    const pid = pidFromBundle(bundle);
    const pidStart = pid ? procStartTime(pid) : undefined;
    if (!pid || !pidStart) {
      throw new ToolError(`the guest's PID 1 (${plan.pid1.join(" ")}) exited right after start; see ${log}.`, { guest: g.name });
    }
    const exec = { ...policyFromConfig(g), ...(net.scopedUnix ? { scopedUnix: true } : {}) };
    const record: RunRecord = {
      name: g.name, context, pid, pidStart, startedAt: Date.now(), runtime: rt.name,
      cgroupPath: cgroupsPath, log, cfgDir: g.cfgDir, vdir: g.vdir, netns: net.netnsPath, exec, guestInit: plan.guestInit,
      ...(rebootWatch ? { rebootWatch } : {}),
      ...(systemd ? { haltSignal: SYSTEMD_HALT_SIGNAL } : {}),
      ...(execSocket !== undefined ? { initExec: true, initTerminal: true } : {}),
      ...(opts.plan ? { rescue: true } : {}),
    };
    writeRunRecord(env.paths, record);
    faultPoint("start.after-records");
    await attachGuestNetwork(env, g, pid, net);
    // Our guest init runs the start command as soon as the runtime has started it.
    if (plan.guestInit) {
      const failed = startCommandError(env, g, plan.start, await awaitStartReport(statusFd!, pid, pidStart));
      if (failed) throw failed;
    }
    faultPoint("start.after-start-command");
    runHooks(hooks, "post-start");
    return { context, pid, log };
  } catch (err) {
    const e = withFstabLine(g, err as Error);
    if (created) await teardownGuest(env, g.name, context);
    else await teardownGuest(env, g.name, context).catch(() => {});
    removeMountPoints(g.vdir, newMountPoints);
    appendLog(log, `=== start failed: ${(e as Error).message}\n`);
    throw e;
  } finally {
    if (logFd >= 0) closeSync(logFd);
    if (statusFd !== undefined) closeSync(statusFd);
    if (execSocket !== undefined) closeSync(execSocket);
  }
}

/**
 * A guest whose own init is PID 1 and may call reboot(2) (SYS_BOOT): the kernel's reboot watch
 * must be in place before it runs, so that its restart is told from its halt at the host's next
 * look. A kernel that refuses the watch only costs that distinction: the guest starts, warned.
 */
async function watchReboots(env: Env, g: GuestConfig, plan: InitPlan): Promise<boolean> {
  if (plan.guestInit || !g.capabilities.includes("SYS_BOOT")) return false;
  try {
    await ensureRebootWatch(env.paths);
    return true;
  } catch (e) {
    env.warn(`guest '${g.name}': a reboot(2) of its init will stop it instead of restarting it (${(e as Error).message})`);
    return false;
  }
}

/** A runtime's mount error that concerns an fstab line names that file and line. */
function withFstabLine(g: GuestConfig, e: Error): Error {
  if (!(e instanceof ToolError)) return e;
  const entry = fstabEntryOfMountError(g.fstab, e.message);
  if (!entry) return e;
  return new ToolError(`${entry.file} line ${entry.line}: the mount on ${entry.target} (${entry.type} ${entry.options.join(",") || "defaults"}) failed: ${e.message}`, { guest: g.name, file: entry.file });
}

/**
 * security/abstract-sockets `scoped`: the file, once it is known that every process of the guest
 * can be put in the Landlock domain (our guest init confines itself before its first child, with
 * the no_new_privs Landlock needs); a guest that cannot be is refused rather than left open.
 */
function scopeUnixRequest(g: GuestConfig, plan: InitPlan, rescue: boolean): string | undefined {
  const { mode, file } = g.abstractSockets;
  if (mode !== "scoped") return undefined;
  // A rescue with its own PID 1 gets the stricter default: every abstract name refused.
  if (!plan.guestInit && rescue) return undefined;
  if (!plan.guestInit) throw new ConfigError(`${file}: 'scoped' needs the guest init as PID 1, and the init style 'plain' runs the guest's own.`, { guest: g.name, file });
  if (!g.noNewPrivileges) throw new ConfigError(`${file}: 'scoped' needs no_new_privs, which security/allow-new-privileges turns off.`, { guest: g.name, file });
  return file;
}

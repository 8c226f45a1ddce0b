// The low-level context operations behind vkill and vwait: naming a context (guest name or
// number), signalling inside it, waiting for it to empty. Each is recorded in the journal, as the
// control plane does for every operation on a context.

import { NotFoundError, NotRunningError, UsageError } from "../errors";
import { cgroupPids, guestCgroupPath } from "../drivers/cgroup/guest-cgroups";
import { signalCgroup, type KillMethod } from "../drivers/cgroup/freeze-kill";
import { record } from "../drivers/journal";
import { contextMatcher, contextOfPid } from "../drivers/proc-scan";
import { allRunRecords, isAlive, readRunRecord, type RunRecord } from "../drivers/run-state";
import { isValidGuestName } from "../pure/paths";
import { watchExit, type ExitWatch } from "../drivers/exit-status";
import type { Env } from "./env";
import { guestExists } from "./guests";
import { adHocContexts } from "./host-view";

export interface ContextRef {
  context: number;
  /** Guest name, if the context is a guest's. */
  name?: string;
  /** The live run record of a running guest. */
  rec?: RunRecord;
  cgroupPath: string;
}

/**
 * A context named by number or by guest name. `requireLive`: it must have processes now
 * (util-vserver's "context does not exist").
 */
export function resolveContext(env: Env, spec: string, requireLive = true): ContextRef {
  let ref: ContextRef;
  if (/^\d+$/.test(spec)) {
    const context = Number(spec);
    if (context > 65535) throw new UsageError(`'${spec}' is not a context number (0 to 65535).`);
    const rec = allRunRecords(env.paths).find((r) => r.context === context && isAlive(r));
    ref = { context, name: rec?.name, rec, cgroupPath: guestCgroupPath(env.paths.cgroupParent, context) };
    if (context === 0) return ref;
    if (requireLive && cgroupPids(ref.cgroupPath).length === 0) {
      const adhoc = adHocContexts(env).some((c) => c.context === context);
      throw new NotFoundError(`context ${context} has no processes (no running guest or chcontext${adhoc ? " left" : ""} uses it).`);
    }
    return ref;
  }
  if (!isValidGuestName(spec)) throw new UsageError(`'${spec}' is neither a context number nor a guest name.`);
  if (!guestExists(env, spec)) throw new NotFoundError(`no guest named '${spec}' (no directory ${env.paths.confDir}/${spec}).`, { guest: spec });
  const rec = readRunRecord(env.paths, spec);
  if (!rec || !isAlive(rec)) {
    if (requireLive) throw new NotRunningError(`guest '${spec}' is not running.`, { guest: spec });
    return { context: rec?.context ?? -1, name: spec, cgroupPath: rec ? rec.cgroupPath : "" };
  }
  return { context: rec.context, name: spec, rec, cgroupPath: rec.cgroupPath };
}

/** The context a host PID belongs to (0 = host). */
export function contextOfProcess(env: Env, pid: number): number | undefined {
  return contextOfPid(pid, contextMatcher(env.paths.cgroupParent));
}

export interface KillRequest {
  /** Context number or guest name; without it PIDs are host processes, signalled as kill(1) does. */
  xid?: string;
  signal: NodeJS.Signals;
  pids: number[];
}

export interface KillResult {
  signalled: number;
  method?: KillMethod;
}

/** vkill: PID 0 = every process of the context (atomically), PID 1 = its init, others = host PIDs in it. */
export async function killInContext(env: Env, req: KillRequest): Promise<KillResult> {
  const ref = req.xid === undefined ? undefined : resolveContext(env, req.xid);
  const journal = (ok: boolean, extra: Record<string, unknown>) =>
    record(env.paths.logDir, { op: "kill", guest: ref?.name, context: ref?.context, ok, signal: req.signal, pids: req.pids, ...extra });
  try {
    let signalled = 0;
    let method: KillMethod | undefined;
    for (const pid of req.pids) {
      if (pid === 0) {
        if (!ref) throw new UsageError("PID 0 (every process of a context) needs --xid.");
        if (ref.context === 0) throw new UsageError("PID 0 in context 0 would signal every host process; refused.");
        const r = await signalCgroup(ref.cgroupPath, req.signal);
        signalled += r.count;
        method = r.method;
        continue;
      }
      let target = pid;
      if (pid === 1 && ref && ref.context !== 0) {
        if (!ref.rec) throw new NotFoundError(`context ${ref.context} has no init process of ours (it is not a guest started by vserver).`);
        target = ref.rec.pid;
      } else if (ref) {
        const ctx = contextOfProcess(env, pid);
        if (ctx === undefined) throw new NotFoundError(`no process ${pid}.`);
        if (ctx !== ref.context) throw new NotFoundError(`process ${pid} is not in context ${ref.context} (it is in context ${ctx}).`);
      }
      try {
        process.kill(target, req.signal);
        signalled++;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "ESRCH") throw new NotFoundError(`no process ${pid}.`);
        throw new NotFoundError(`cannot signal process ${pid}: ${code ?? (e as Error).message}.`);
      }
    }
    journal(true, { signalled, method });
    return { signalled, method };
  } catch (e) {
    journal(false, { error: (e as Error).message });
    throw e;
  }
}

export type WaitOutcome = { status: "FINISHED"; code: number } | { status: "KILLED" } | { status: "TIMEOUT" };

/**
 * vwait: block until the context has no process left. With terminate, a timeout kills the whole
 * context and reports KILLED. FINISHED carries the guest's PID 1's exit status (128 + signal when
 * killed: a plain guest's reboot(2) ends it with SIGHUP, a halt with SIGINT), which the kernel
 * keeps for a pidfd opened while it ran; 0 when that is not known (an ad hoc context, an older
 * kernel) (docs/host-views.md).
 */
export async function waitForContext(env: Env, spec: string, timeoutSeconds: number | undefined, terminate: boolean): Promise<WaitOutcome> {
  const ref = resolveContext(env, spec);
  if (ref.context === 0) throw new UsageError("context 0 is the host; it never ends.");
  const empty = () => cgroupPids(ref.cgroupPath).length === 0;
  const watch = ref.rec ? watchExit(ref.rec.pid, ref.rec.pidStart) : undefined;
  try {
    return await waitUntilEmpty(env, ref, empty, watch, timeoutSeconds, terminate);
  } finally {
    watch?.close();
  }
}

async function waitUntilEmpty(env: Env, ref: ContextRef, empty: () => boolean, watch: ExitWatch | undefined, timeoutSeconds: number | undefined, terminate: boolean): Promise<WaitOutcome> {
  const deadline = timeoutSeconds === undefined ? Infinity : Date.now() + timeoutSeconds * 1000;
  let delay = 10;
  while (!empty()) {
    if (Date.now() >= deadline) {
      if (!terminate) {
        record(env.paths.logDir, { op: "wait", guest: ref.name, context: ref.context, ok: false, status: "TIMEOUT" });
        return { status: "TIMEOUT" };
      }
      await signalCgroup(ref.cgroupPath, "SIGKILL");
      const until = Date.now() + 10_000;
      while (!empty() && Date.now() < until) await Bun.sleep(20);
      record(env.paths.logDir, { op: "wait", guest: ref.name, context: ref.context, ok: true, status: "KILLED" });
      return { status: "KILLED" };
    }
    await Bun.sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
    delay = Math.min(delay * 2, 100);
  }
  // The status is kept when PID 1 is reaped, which the host's init may do a moment later.
  let code = watch?.status();
  for (let i = 0; watch && code === undefined && i < 40; i++) {
    await Bun.sleep(25);
    code = watch.status();
  }
  record(env.paths.logDir, { op: "wait", guest: ref.name, context: ref.context, ok: true, status: "FINISHED", code });
  return { status: "FINISHED", code: code ?? 0 };
}

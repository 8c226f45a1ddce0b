// `vserver NAME stop` (reference §6.3): pre-stop hook, the guest's stop command, the kill
// sequence until no process is left, then everything start made is removed and the post-stop
// hooks run. A guest that is not running still gets its leftovers removed.

import { openSync, closeSync } from "node:fs";
import { appendLog } from "../drivers/log-file";
import { NotRunningError } from "../errors";
import { cgroupPids } from "../drivers/cgroup/guest-cgroups";
import { runHooks } from "../drivers/hooks";
import { isAlive, readRunRecord, type RunRecord } from "../drivers/run-state";
import { procStartTime, signalProcess } from "../drivers/proc-pid";
import { signalNumber } from "../drivers/process";

const SIGKILL = 9;
import type { GuestConfig } from "../pure/config/guest-config";
import type { KillStep } from "../pure/config/killseq";
import type { Env } from "./env";
import { initPlan } from "./init-style";
import { STOP_SIGNAL, STOPPED_COMM } from "../pure/guest-init";
import { readFileSync } from "node:fs";
import { logFileOf, runInitCommand, STOP_COMMAND_TIMEOUT } from "./guest-commands";
import { hookContext } from "./start";
import { teardownGuest } from "./teardown";
import { clearLeftovers, observeGuest } from "./guest-state";
import { faultPoint } from "../drivers/fault";
import { takeRebootSignal } from "../drivers/bpf/reboot-watch";


/** Gone or a zombie: a guest's PID 1 is reaped by the host's init, which may take its time. */
function pidGone(pid: number): boolean {
  return procStartTime(pid) === undefined;
}

async function waitUntil(cond: () => boolean, seconds: number): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  // Short first waits: a killed guest is usually gone within a few milliseconds.
  let delay = 2;
  while (!cond()) {
    if (Date.now() >= deadline) return false;
    await Bun.sleep(delay);
    delay = Math.min(delay * 2, 200);
  }
  return true;
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trimEnd();
  } catch {
    return "";
  }
}

/**
 * Our guest init runs the stop command on a signal from the host and renames itself when the
 * command has ended (pure/guest-init.ts); the kill sequence starts then, or after the timeout.
 */
async function runStopCommandByInit(rec: RunRecord): Promise<void> {
  if (!signalProcess(rec.pid, rec.pidStart, STOP_SIGNAL)) return;
  await waitUntil(() => pidGone(rec.pid) || comm(rec.pid) === STOPPED_COMM, STOP_COMMAND_TIMEOUT);
}

/**
 * The guest's own systemd halts on its signal (SIGRTMIN+3): it stops its units in order and
 * ends, or calls reboot(2) in its PID namespace; the kill sequence starts then, or after the
 * timeout.
 */
async function haltOwnInit(rec: RunRecord, log: string): Promise<void> {
  appendLog(log, `=== asking the guest's init to halt (signal ${rec.haltSignal})\n`);
  if (!signalProcess(rec.pid, rec.pidStart, rec.haltSignal!)) return;
  await waitUntil(() => pidGone(rec.pid), STOP_COMMAND_TIMEOUT);
}

/**
 * Signal the guest's processes step by step. While PID 1 is our reaper, earlier steps spare it so
 * that services get their signal and time to exit (PID 1's death would SIGKILL them at once).
 */
export async function killSequence(rec: RunRecord, steps: KillStep[], reaperIsPid1: boolean): Promise<void> {
  for (const step of steps) {
    const final = step.signal === "SIGKILL";
    if (final) {
      // PID 1 first: its death makes the kernel kill everything else in the guest's PID namespace,
      // forks in flight included; the rest of the cgroup (a process that joined it from outside)
      // follows. The runtime's `delete --force` in teardown sweeps the cgroup once more, so a
      // separate `kill --all` through the runtime would only cost another process start.
      signalProcess(rec.pid, rec.pidStart, SIGKILL);
      for (const p of cgroupPids(rec.cgroupPath)) if (p !== rec.pid) try { process.kill(p, "SIGKILL"); } catch {}
      await waitUntil(() => pidGone(rec.pid) && cgroupPids(rec.cgroupPath).length === 0, Math.max(step.waitSeconds, 5));
      return;
    }
    const targets = cgroupPids(rec.cgroupPath).filter((p) => !(reaperIsPid1 && p === rec.pid));
    if (targets.length === 0 && !reaperIsPid1) {
      if (pidGone(rec.pid)) return;
    }
    const signal = signalNumber(step.signal);
    for (const p of targets) {
      if (p === rec.pid) signalProcess(rec.pid, rec.pidStart, signal);
      else try { process.kill(p, signal); } catch {}
    }
    const done = reaperIsPid1
      ? () => cgroupPids(rec.cgroupPath).every((p) => p === rec.pid)
      : () => pidGone(rec.pid) && cgroupPids(rec.cgroupPath).length === 0;
    await waitUntil(done, step.waitSeconds);
  }
}

export interface StopResult {
  wasRunning: boolean;
}

/** skipStopCommand: `stop --rescue-init`, straight to the kill sequence. */
export async function stopGuest(env: Env, g: GuestConfig, opts: { skipStopCommand?: boolean } = {}): Promise<StopResult> {
  // The run record answers "is it running" from /proc (PID 1 with its start time): asking the
  // runtime for its state would cost a process start.
  const rec = readRunRecord(env.paths, g.name);
  const running = rec !== undefined && isAlive(rec);
  const hooks = hookContext(env, g, rec?.context ?? g.context);
  if (!running) {
    // No live record, but a killed start or stop may have left things behind, processes included:
    // those are stopped here (said once), and a stop that stopped something has succeeded.
    const seen = observeGuest(env, g.name, g.context);
    await clearLeftovers(env, g.name, seen, "stop", true);
    if (seen.orphanProcesses) return { wasRunning: true };
    throw new NotRunningError(`guest '${g.name}' is not running.`, { guest: g.name });
  }
  const log = logFileOf(env, g.name);
  appendLog(log, `=== ${new Date().toISOString()} stop of '${g.name}'\n`);
  runHooks(hooks, "pre-stop");
  const plan = initPlan(g);
  // A rescue start ran none of the guest's own init: its stop command is not run either.
  const runStopCommand = !rec!.rescue && !opts.skipStopCommand;
  if (runStopCommand && rec!.guestInit) {
    await runStopCommandByInit(rec!);
  } else if (runStopCommand && rec!.haltSignal && !plan.stop.length) {
    await haltOwnInit(rec!, log);
  } else if (runStopCommand) {
    // Guests started before our guest init (or plain ones): the stop command through the runtime.
    const logFd = openSync(log, "a");
    try {
      runInitCommand(env, g, plan.stop, logFd, "stop", { fatal: false, timeoutSeconds: STOP_COMMAND_TIMEOUT });
    } finally {
      closeSync(logFd);
    }
  }
  faultPoint("stop.before-kill");
  await killSequence(rec!, g.killSeq, rec!.rescue ? !!rec!.guestInit : !!rec!.guestInit || plan.guestInit);
  faultPoint("stop.after-kill");
  // A halt that ended in reboot(2) left its signal in the reboot watch: this stop has answered it.
  if (rec!.rebootWatch) takeRebootSignal(env.paths, rec!.pid);
  await teardownGuest(env, g.name, rec!.context);
  runHooks(hooks, "post-stop");
  runHooks(hooks, "postpost-stop");
  return { wasRunning: true };
}

// A guest whose PID 1 ended by itself (a halt from inside, or a plain guest's own init that
// exited or called reboot(2)) leaves its run record, cgroups, runtime state and network behind:
// no host process waits for a guest. The host's next look at the guest (any command on it, the
// guest list, vserver-stat, start-vservers) removes them, runs the post-stop hooks and journals
// the exit, as util-vserver's vshelper did when the kernel called it. A plain guest whose init
// rebooted its PID namespace (reboot(2), restart) is started again here, as vshelper's default
// action `restart` did; the kernel's reboot watch (drivers/bpf/reboot-watch.ts) says which it was.

const SIGHUP = 1;
const SIGINT = 2;

type ExitHow = "halt" | "reboot" | "exit";

/** How the guest ended, in the guest's own words: our init's last log line, or what its namespace's reboot(2) left. */
function howItEnded(env: Env, rec: RunRecord): ExitHow {
  if (rec.guestInit) return lastInitWord(rec.log) === "halted" ? "halt" : "exit";
  if (!rec.rebootWatch) return "exit";
  const sig = takeRebootSignal(env.paths, rec.pid);
  return sig === SIGHUP ? "reboot" : sig === SIGINT ? "halt" : "exit";
}

import { closeSync, openSync, readSync, fstatSync } from "node:fs";
import { appendLog } from "../drivers/log-file";
import { BusyError } from "../errors";
import { acquireLock } from "../drivers/lock";
import { record } from "../drivers/journal";
import { runHooks } from "../drivers/hooks";
import { allRunRecords, isAlive, readRunRecord, type RunRecord } from "../drivers/run-state";
import type { Paths } from "../pure/paths";
import type { Env } from "./env";
import { guestExists, loadGuest } from "./guests";
import { logFileOf } from "./guest-commands";
import { hookContext, startGuest } from "./start";
import { takeRebootSignal } from "../drivers/bpf/reboot-watch";
import { teardownGuest } from "./teardown";
import { faultPoint } from "../drivers/fault";

/** The last line our guest init wrote about itself ("halted", ...), from the log's tail: the guest's own word. */
export function lastInitWord(log: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(log, "r");
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, 4096));
    readSync(fd, buf, 0, buf.length, size - buf.length);
    // Only what the init said in the guest's latest life: a halt of an earlier one is no answer.
    const all = buf.toString("latin1").split("\n");
    let started = all.length - 1;
    while (started >= 0 && !/^=== \d{4}-\S+ start of '/.test(all[started]!)) started--;
    const lines = all.slice(started + 1).filter((l) => l.startsWith("=== vserver-init: "));
    return lines.at(-1)?.slice("=== vserver-init: ".length, 100);
  } finally {
    closeSync(fd);
  }
}

/**
 * Clean up after the guest if its PID 1 has ended. `locked`: the caller holds the guest's lock;
 * otherwise it is taken only if free (a command that holds it deals with the leftovers itself).
 * Returns true when it cleaned up.
 */
export async function settleExited(env: Env, name: string, locked: boolean): Promise<boolean> {
  const seen = readRunRecord(env.paths, name);
  if (!seen || isAlive(seen)) return false;
  let lock;
  if (!locked) {
    try {
      lock = await acquireLock(env.paths.lockDir, name, `guest '${name}'`, 0);
    } catch (e) {
      if (e instanceof BusyError) return false;
      throw e;
    }
  }
  try {
    const rec = readRunRecord(env.paths, name);
    if (!rec || isAlive(rec)) return false;
    const how = howItEnded(env, rec);
    faultPoint("exited.before-teardown");
    await teardownGuest(env, name, rec.context);
    faultPoint("exited.after-teardown");
    let hookError: string | undefined;
    if (guestExists(env, name)) {
      try {
        const hooks = hookContext(env, loadGuest(env, name), rec.context);
        runHooks(hooks, "post-stop");
        runHooks(hooks, "postpost-stop");
      } catch (e) {
        hookError = (e as Error).message;
      }
    }
    appendLog(logFileOf(env, name), `=== ${new Date().toISOString()} the guest ended by itself (${how}); its leftovers were removed\n`);
    record(env.paths.logDir, { op: "exit", guest: name, context: rec.context, ok: !hookError, how, ...(hookError ? { error: hookError } : {}) });
    if (how === "reboot" && !hookError && guestExists(env, name)) await restartAfterReboot(env, name);
    return true;
  } finally {
    lock?.release();
  }
}

/** Some guest's PID 1 has ended: asked of the run records and /proc alone (the views' cheap env suffices). */
export function anyExited(paths: Paths): boolean {
  return allRunRecords(paths).some((r) => !isAlive(r));
}

/** settleExited for every guest with a run record whose PID 1 has ended. */
export async function settleAllExited(env: Env): Promise<string[]> {
  const done: string[] = [];
  for (const r of allRunRecords(env.paths)) {
    if (!isAlive(r) && (await settleExited(env, r.name, false))) done.push(r.name);
  }
  return done;
}

/** Start a guest again after its init rebooted; a failure is journalled and logged, not thrown: the look that found it was about something else. */
async function restartAfterReboot(env: Env, name: string): Promise<void> {
  try {
    const r = await startGuest(env, loadGuest(env, name));
    record(env.paths.logDir, { op: "start", guest: name, ok: true, context: r.context, after: "reboot" });
  } catch (e) {
    record(env.paths.logDir, { op: "start", guest: name, ok: false, after: "reboot", error: (e as Error).message, kind: (e as Error).name });
    env.warn(`guest '${name}' rebooted itself, and starting it again failed: ${(e as Error).message}`);
  }
}

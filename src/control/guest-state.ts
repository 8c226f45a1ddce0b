// Whether a guest runs is decided from what the kernel and the runtime show, not from the run
// record alone: a start killed after the runtime started the container but before it wrote the
// record leaves a running guest init with no record. The run record is the fast answer (PID 1 and
// its start time in /proc); without a live one, the guest's cgroup and the runtime's state say
// whether something of it is still there. What is found is torn down (it was never reported as
// started, so nothing depends on it), said once, and journalled.

import { existsSync } from "node:fs";
import { cgroupPids, guestCgroupPath } from "../drivers/cgroup/guest-cgroups";
import { record } from "../drivers/journal";
import { isAlive, readRunRecord, type RunRecord } from "../drivers/run-state";
import { containerState } from "../drivers/runtime/oci-runtime";
import type { Env } from "./env";
import { bundleDir, teardownGuest } from "./teardown";

export interface ObservedGuest {
  /** The live run record: the guest runs, as started by a command that finished its start. */
  running?: RunRecord;
  /** No live record, but processes of the guest run (its cgroup, or the runtime says so). */
  orphanProcesses: boolean;
  /** Anything left of an earlier start: a record, the runtime's container, processes. */
  leftovers: boolean;
  /** The context the leftovers are under (the record's, else the configured one). */
  context: number | undefined;
}

export function observeGuest(env: Env, name: string, configuredContext: number | undefined): ObservedGuest {
  const rec = readRunRecord(env.paths, name);
  if (rec && isAlive(rec)) return { running: rec, orphanProcesses: false, leftovers: false, context: rec.context };
  const context = rec?.context ?? configuredContext;
  const pids = context === undefined ? [] : cgroupPids(guestCgroupPath(env.paths.cgroupParent, context));
  const rt = env.runtimeOf(name);
  const container = existsSync(`${rt.stateDir}/${name}`);
  // Asking the runtime costs a process start: only when its state dir has the container and the
  // cgroup (unknown for a dynamic context without a record) did not already answer.
  const orphanProcesses = pids.length > 0 || (container && containerState(rt, name)?.status === "running");
  const leftovers = orphanProcesses || container || rec !== undefined || existsSync(bundleDir(env, name));
  return { orphanProcesses, leftovers, context };
}

/**
 * Remove what an earlier, killed command left. Running processes without a record are worth a
 * line to the user and the journal; a dead record or a stopped container is plain cleanup.
 */
export async function clearLeftovers(env: Env, name: string, seen: ObservedGuest, op: string, always = false): Promise<void> {
  if (!seen.leftovers && !always) return;
  await teardownGuest(env, name, seen.context);
  if (seen.orphanProcesses) {
    env.warn(`guest '${name}' had processes running without a record of their start (a command was killed); ${op} stopped and removed them.`);
    record(env.paths.logDir, { op: "recover", guest: name, context: seen.context, ok: true, found: "processes without a run record", action: "teardown", by: op });
  }
}

// Recording a start as a plan the native front-end can replay (pure/start-plan.ts says what a plan
// is and why). Only starts that needed no decision at start time are recorded; any other start
// removes the guest's plan, so a replay never differs from what TypeScript would do.

import { readFileSync, rmSync } from "node:fs";
import { writeFileAtomic } from "../drivers/atomic-file";
import type { GuestConfig } from "../pure/config/guest-config";
import { formatExecRecord, type ExecRecord } from "../pure/exec-record";
import { formatStartPlan, PLACEHOLDER, type StartPlan } from "../pure/start-plan";
import { HOOK_FLAVOURS, hookScripts, type HookContext } from "../drivers/hooks";
import type { RunRecord } from "../drivers/run-state";
import { guestCgroupDirs, procsFile } from "../drivers/cgroup/guest-cgroups";
import { shadowEntries } from "../drivers/runtime/cgroup-view";
import { signalNumber } from "../drivers/process";
import { STOP_COMMAND_TIMEOUT } from "./guest-commands";
import { deleteArgv, launchArgv, type Runtime } from "../drivers/runtime/oci-runtime";
import type { Env } from "./env";

/** Set by the native front-end when it hands a start over: the config's fingerprint, taken before we read it. */
function fingerprintFromFrontEnd(): string | undefined {
  const f = process.env.VSERVER_CONFIG_FINGERPRINT;
  return f && /^[0-9a-f]{16,64}$/.test(f) ? f : undefined;
}

export function startPlanFile(env: Env, name: string): string {
  return `${env.paths.runDir}/.plans/${name}`;
}

export function removeStartPlan(env: Env, name: string): void {
  rmSync(startPlanFile(env, name), { force: true });
  rmSync(`${startPlanFile(env, name)}.json`, { force: true });
}

export interface StartFacts {
  rt: Runtime;
  hooks: HookContext;
  bundle: string;
  record: RunRecord;
  execRecord: ExecRecord;
  guestInit: boolean;
  /** Nothing was decided at start time beyond the config: no network of ours, no dropped capability. */
  plain: boolean;
}

/** Why this start cannot be replayed natively, or undefined when it can. */
function notReplayable(g: GuestConfig, f: StartFacts): string | undefined {
  if (!f.plain) return "network or capabilities decided at start";
  if (g.warnings.length) return "config warnings";
  if (g.context === undefined) return "dynamic context";
  if (g.cgroupFiles.length) return "cgroup files";
  if (!f.guestInit) return "no guest init";
  if (HOOK_FLAVOURS.some((fl) => hookScripts(f.hooks, fl).length)) return "hook scripts";
  return undefined;
}

function template(record: RunRecord): string {
  return JSON.stringify({ ...record, pid: PLACEHOLDER.pid, pidStart: PLACEHOLDER.pidStart, startedAt: PLACEHOLDER.startedAt })
    .replace(`"${PLACEHOLDER.pid}"`, PLACEHOLDER.pid)
    .replace(`"${PLACEHOLDER.startedAt}"`, PLACEHOLDER.startedAt);
}

/** After a successful start: write the plan if the front-end asked for one and the start qualifies. */
export function recordStartPlan(env: Env, g: GuestConfig, f: StartFacts): void {
  const fingerprint = fingerprintFromFrontEnd();
  // Called without the front-end (VSERVER_NATIVE=0, or directly): a plan on record stays valid
  // exactly as long as its own fingerprint matches, so it is left alone.
  if (!fingerprint) return;
  if (notReplayable(g, f)) return removeStartPlan(env, g.name);
  const execText = formatExecRecord({ ...f.execRecord, pid: 0, pidStart: PLACEHOLDER.pidStart });
  if (execText === undefined) return removeStartPlan(env, g.name);
  const view = f.rt.view;
  const cgroups = guestCgroupDirs(env.paths.cgroupParent, f.record.context);
  const shadow = view ? shadowEntries(view, f.record.cgroupPath) : undefined;
  const procs = procsFile(f.record.cgroupPath);
  const file = startPlanFile(env, g.name);
  const plan: StartPlan = {
    fingerprint,
    context: f.record.context,
    log: f.record.log,
    lockDir: env.paths.lockDir,
    runtimeStateDir: f.rt.stateDir,
    vdir: g.vdir,
    bundle: f.bundle,
    config: `${file}.json`,
    view: view?.file,
    nice: g.nice ?? 0,
    runArgv: launchArgv(f.rt, "run", g.name, f.bundle, true),
    deleteArgv: deleteArgv(f.rt, g.name),
    guestInit: f.guestInit,
    procs: procs ?? "",
    cgroupDirs: cgroups.leaves,
    cgroupParents: cgroups.parents,
    shadow: shadow?.entry,
    shadowParent: shadow?.parent,
    kill: g.killSeq.map((k) => ({ signal: signalNumber(k.signal), wait: k.waitSeconds })),
    stopTimeout: STOP_COMMAND_TIMEOUT,
    runRecord: template(f.record),
    execRecord: execText.replace(/^pid 0$/m, `pid ${PLACEHOLDER.pid}`),
  };
  const text = procs && shadow !== null ? formatStartPlan(plan) : undefined;
  if (text === undefined) return removeStartPlan(env, g.name);
  writeFileAtomic(`${file}.json`, readFileSync(`${f.bundle}/config.json`, "utf8"));
  writeFileAtomic(file, text);
}

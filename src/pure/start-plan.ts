// The start plan: what `vserver NAME start` did, step by step, for a guest whose start needs no
// decision at start time (no hooks, no network of ours, no cgroup files, a fixed context), so that
// the native front-end (src/native/native-start.c, native-stop.c) can start and stop it again
// without the JavaScript runtime. The TypeScript start writes it after a successful start; the
// native code replays it only while the guest's configuration is unchanged: the front-end
// fingerprints the config directories (file names, inodes, sizes and times) before it hands a
// start to TypeScript, and the plan keeps that fingerprint. Policy stays in TypeScript: the native
// side never reads a guest's config.
//
// One "key value" per line, no quoting, like the exec record; a value with a newline cannot be
// written, and then there is no plan (the TypeScript path always works).

import { keyValueText } from "./key-value-text";

export const START_PLAN_VERSION = 1;

/** Placeholders the native side fills in when it writes the records of a replayed start. */
export const PLACEHOLDER = { pid: "@PID@", pidStart: "@PIDSTART@", startedAt: "@STARTED@" } as const;

export interface StartPlan {
  /** The fingerprint the front-end computed before TypeScript read the config. */
  fingerprint: string;
  context: number;
  /** The guest's log (stdout/stderr of the runtime and of PID 1). */
  log: string;
  lockDir: string;
  /** The runtime's state directory: a leftover container there means "let TypeScript clean up". */
  runtimeStateDir: string;
  /** The guest's root: when it is gone, TypeScript reports that. */
  vdir: string;
  /** The bundle directory start fills, and the config.json saved for it. */
  bundle: string;
  config: string;
  /** The mount namespace to run the runtime in (the hidden-cgroup2 view), if any. */
  view?: string;
  nice: number;
  /** The runtime's `run` command (no nsenter, no nice; the native side enters the view and sets nice). */
  runArgv: string[];
  /** The runtime's `delete --force` command. */
  deleteArgv: string[];
  /** PID 1 is our guest init (it runs the start command and reports on fd 3). */
  guestInit: boolean;
  /** The cgroup.procs file the kill sequence reads. */
  procs: string;
  /** The guest's cgroup in every hierarchy, removed at stop; then the parents if empty. */
  cgroupDirs: string[];
  cgroupParents: string[];
  /** What the runtime wrote for this guest into the view's shadow of cgroup2, and its parent. */
  shadow?: string;
  shadowParent?: string;
  /** apps/init/killseq as signal numbers and seconds. */
  kill: Array<{ signal: number; wait: number }>;
  /** Seconds the stop command may take. */
  stopTimeout: number;
  /** The run record and exec record with PLACEHOLDER fields. */
  runRecord: string;
  execRecord: string;
}

export function formatStartPlan(p: StartPlan): string | undefined {
  const lines = [
    "# written by 'vserver start' for the native start and stop; removed when the guest is deleted",
    `version ${START_PLAN_VERSION}`,
    `fingerprint ${p.fingerprint}`,
    `context ${p.context}`,
    `log ${p.log}`,
    `lock-dir ${p.lockDir}`,
    `runtime-state ${p.runtimeStateDir}`,
    `vdir ${p.vdir}`,
    `bundle ${p.bundle}`,
    `config ${p.config}`,
    ...(p.view ? [`view ${p.view}`] : []),
    `nice ${p.nice}`,
    ...p.runArgv.map((a) => `run-arg ${a}`),
    ...p.deleteArgv.map((a) => `delete-arg ${a}`),
    `guest-init ${p.guestInit ? 1 : 0}`,
    `procs ${p.procs}`,
    ...p.cgroupDirs.map((d) => `cgroup-dir ${d}`),
    ...p.cgroupParents.map((d) => `cgroup-parent ${d}`),
    ...(p.shadow ? [`shadow ${p.shadow}`] : []),
    ...(p.shadowParent ? [`shadow-parent ${p.shadowParent}`] : []),
    ...p.kill.map((k) => `kill ${k.signal} ${k.wait}`),
    `stop-timeout ${p.stopTimeout}`,
    `run-record ${p.runRecord}`,
    ...p.execRecord.split("\n").filter(Boolean).map((l) => `exec-record ${l}`),
  ];
  return keyValueText(lines);
}

/** Fill the placeholders as the native side does (tests compare with the TypeScript records). */
export function fillPlaceholders(template: string, v: { pid: number; pidStart: string; startedAt: number }): string {
  return template.split(PLACEHOLDER.pid).join(String(v.pid)).split(PLACEHOLDER.pidStart).join(v.pidStart).split(PLACEHOLDER.startedAt).join(String(v.startedAt));
}

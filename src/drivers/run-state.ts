// What we know of a running guest, kept in the run directory: util-vserver's run file
// (/run/vservers/NAME holding the context number) with the PID 1 we started, so that "is it
// running" is answered from /proc without asking the runtime.

import { guestPaths } from "../pure/paths";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { writeFileAtomic } from "./atomic-file";
import type { Paths } from "../pure/paths";
import type { Ulimit } from "../pure/config/guest-config";
import { procStartTime } from "./proc-pid";

/** What exec and enter into a running guest obey; fixed when it starts (vattribute changes `private`). */
export interface ExecPolicy {
  private: boolean;
  noNewPrivs: boolean;
  nice: number;
  /** ulimits/ (absent in records written before exec obeyed them: then the config's). */
  rlimits?: Ulimit[];
  /** The environment the guest started with (absent in older records). */
  env?: string[];
  /** Every process runs in a Landlock domain scoped for abstract unix sockets (docs/networking.md). */
  scopedUnix?: boolean;
}

export interface RunRecord {
  name: string;
  context: number;
  /** Host PID of the guest's PID 1. */
  pid: number;
  /** /proc/PID/stat start time of that PID, to tell a reused PID apart. */
  pidStart: string;
  /** Milliseconds since the epoch. */
  startedAt: number;
  runtime: string;
  cgroupPath: string;
  log: string;
  cfgDir: string;
  vdir: string;
  netns?: string;
  /** Absent in records written before it existed: then the guest's config is the policy. */
  exec?: ExecPolicy;
  /** PID 1 is our guest init, which runs the stop command when asked (absent in older records). */
  guestInit?: boolean;
  /** The kernel's reboot watch (drivers/bpf/reboot-watch.ts) records how its PID 1's namespace was rebooted. */
  rebootWatch?: boolean;
  /** PID 1 is the guest's own systemd: stop asks it to halt with this signal (SIGRTMIN+3) first. */
  haltSignal?: number;
  /** Started with `start --rescue`: the guest's own stop command must not run. */
  rescue?: boolean;
  /** Our guest init serves exec on GuestPaths.execSocket (pure/guest-exec-protocol.ts). */
  initExec?: boolean;
  /** ... and at a terminal too, with a fresh pty it makes in the guest (older inits did not). */
  initTerminal?: boolean;
}

export function runFile(paths: Paths, name: string): string {
  return guestPaths(paths, name).runRecord;
}

export function writeRunRecord(paths: Paths, r: RunRecord): void {
  writeFileAtomic(runFile(paths, r.name), JSON.stringify(r) + "\n", { mode: 0o644, dirMode: 0o755 });
}

export function readRunRecord(paths: Paths, name: string): RunRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(runFile(paths, name), "utf8"));
    return typeof r?.pid === "number" ? (r as RunRecord) : undefined;
  } catch {
    return undefined;
  }
}

export function removeRunRecord(paths: Paths, name: string): void {
  rmSync(runFile(paths, name), { force: true });
}

export function allRunRecords(paths: Paths): RunRecord[] {
  let names: string[] = [];
  try {
    names = readdirSync(paths.runDir).filter((n) => !n.startsWith(".") && !n.endsWith(".tmp"));
  } catch {
    return [];
  }
  return names.map((n) => readRunRecord(paths, n)).filter((r): r is RunRecord => r !== undefined);
}

/** The record's PID 1 is still the process we started. */
export function isAlive(r: RunRecord): boolean {
  return procStartTime(r.pid) === r.pidStart;
}

/** `vattribute --set --flag [~]private` on a running guest: its record changes at once. */
export function setPrivateFlag(paths: Paths, name: string, on: boolean): void {
  const rec = readRunRecord(paths, name);
  if (rec?.exec) writeRunRecord(paths, { ...rec, exec: { ...rec.exec, private: on } });
}

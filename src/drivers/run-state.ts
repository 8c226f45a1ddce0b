// What we know of a running guest, kept in the run directory: util-vserver's run file
// (/run/vservers/NAME holding the context number) with the PID 1 we started, so that "is it
// running" is answered from /proc without asking the runtime.

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, renameSync } from "node:fs";
import type { Paths } from "../pure/paths";
import { procStartTime } from "./proc-pid";

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
}

export function runFile(paths: Paths, name: string): string {
  return `${paths.runDir}/${name}`;
}

export function writeRunRecord(paths: Paths, r: RunRecord): void {
  mkdirSync(paths.runDir, { recursive: true, mode: 0o755 });
  const tmp = `${runFile(paths, r.name)}.tmp`;
  writeFileSync(tmp, JSON.stringify(r) + "\n");
  renameSync(tmp, runFile(paths, r.name));
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

// Read-only views of guests: status, the list, and the facts behind them.

import type { GuestConfig } from "../pure/config/guest-config";
import { cgroupPids } from "../drivers/cgroup/guest-cgroups";
import { isAlive, readRunRecord, type RunRecord } from "../drivers/run-state";
import type { Env } from "./env";
import { listGuestNames, loadGuest } from "./guests";
import { logFileOf } from "./guest-commands";
import { observeGuest } from "./guest-state";
import { lockHeld } from "../drivers/lock";
import type { StatusView } from "../pure/format/guest-status";

/** What the status views show (pure/format/guest-status.ts), and what callers of the API also get. */
export interface GuestStatus extends StatusView {
  cfgDir: string;
  pid?: number;
}

export function liveRecord(env: Env, name: string): RunRecord | undefined {
  const r = readRunRecord(env.paths, name);
  return r && isAlive(r) ? r : undefined;
}

export function guestStatus(env: Env, g: GuestConfig): GuestStatus {
  const rec = liveRecord(env, g.name);
  const s: GuestStatus = {
    name: g.name, running: !!rec, context: rec?.context ?? g.context, initStyle: g.initStyle, ...(g.mark ? { mark: g.mark } : {}),
    vdir: g.vdir, cfgDir: g.cfgDir, log: logFileOf(env, g.name),
  };
  // Processes without a record are a killed command's leftovers, unless a command working on the
  // guest right now (a start between the runtime and its record) holds its lock.
  if (!rec && observeGuest(env, g.name, g.context).orphanProcesses && !lockHeld(env.paths.lockDir, g.name)) s.leftovers = true;
  if (rec) {
    s.pid = rec.pid;
    s.processes = cgroupPids(rec.cgroupPath).length;
    s.uptimeSeconds = Math.max(0, Math.round((Date.now() - rec.startedAt) / 1000));
  }
  return s;
}

export function allStatuses(env: Env): Array<GuestStatus | { name: string; error: string }> {
  return listGuestNames(env).map((n) => {
    try {
      return guestStatus(env, loadGuest(env, n));
    } catch (e) {
      return { name: n, error: (e as Error).message };
    }
  });
}

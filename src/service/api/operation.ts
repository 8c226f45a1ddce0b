// One API operation, run in a process of its own (`vserverd --operation`), as each command runs
// in a worker of its own: the control plane and its drivers block on child programs
// (spawnSync of the runtime, of iproute2) and assume a process per operation, and the HTTP
// server must stay responsive while a start or a build runs. The request comes on fd 3 as
// JSON, the answer goes to fd 4 as JSON; fds 0, 1, 2 are pipes the API server relays (an exec's
// standard input and output). Everything goes through the control plane (control/plane.ts) and
// the control files the commands use, with the same checks, locks and journal.

import { closeSync, readFileSync, writeSync } from "node:fs";
import { ToolError, VsError, UsageError } from "../../errors";
import { makeEnv, type Env } from "../../control/env";
import * as plane from "../../control/plane";
import { contextStats, guestNetTraffic, type GuestStatJson } from "../../control/host-view";
import { cgroupUsage } from "../../drivers/cgroup/guest-usage";
import { guestCgroupPath } from "../../drivers/cgroup/guest-cgroups";
import { liveTarget } from "../../control/live-target";
import { readLimits, setLimits, type LimitChange } from "../../control/limits";
import { readAttributes, saveAttributes } from "../../control/attributes";
import { setCaller, type Caller } from "../../drivers/journal";
import { resourceInfo, resourceRefusal } from "../../pure/live-settings";
import type { BuildMethod } from "../../control/build";
import { bootGuests } from "../../control/boot";
import { runAcrossGuests } from "../../control/across-guests";
import { formatGc, formatHashify, formatProgress } from "../../pure/format/unify";
import type { Selection } from "../../pure/boot-order";
import { writeOut } from "../../drivers/output";
import type { GuestStatus } from "../../control/info";
import type { DiskUsage } from "../../control/disk-limits";

export const REQUEST_FD = 3;
export const ANSWER_FD = 4;

export type OperationRequest =
  | { op: "list" | "stat" | "metrics" | "settle" }
  | { op: "status" | "start" | "stop" | "restart" | "limits" | "attributes"; name: string }
  | { op: "delete"; name: string }
  | { op: "build"; body: { name: string; method: string; context?: number | string; hostname?: string; initstyle?: string; flags?: string[]; interfaces?: string[]; force?: boolean; methodArgs?: string[] } }
  | { op: "exec"; name: string; argv: string[]; user?: string; cwd?: string }
  | { op: "setLimits"; name: string; limits: Record<string, number | "inf">; which?: "both" | "soft" | "hard"; save?: boolean }
  | { op: "setAttributes"; name: string; bcaps?: string[]; flags?: string[] }
  | { op: "boot"; body: { action: "start" | "stop" } & ManyGuests }
  | { op: "hashify" | "deunify" | "du"; name: string }
  | { op: "gc" }
  | { op: "packages"; name: string; action: "install" | "remove"; packages: string[] }
  | { op: "packageTool"; body: { tool: "apt-get" | "rpm" | "yum"; args: string[] } & ManyGuests };

/** The guests an operation on many acts on, as the API's body names them (pure/api/schema.ts). */
interface ManyGuests {
  guests?: string[];
  select?: "all" | "marked" | "unmarked" | "running" | "stopped";
  mark?: string;
  jobs?: number;
}

export type OperationAnswer =
  | { ok: true; result: unknown; warnings: string[] }
  | { ok: false; error: string; kind: string; warnings: string[] };

/** A guest's status with its usage from the host view, as one object. */
function withUsage<T extends { context?: number; running?: boolean }>(s: T, usage: Map<number, GuestStatJson>): T & { usage?: GuestStatJson } {
  const u = s.running && s.context !== undefined ? usage.get(s.context) : undefined;
  return u ? { ...s, usage: u } : s;
}

/** A guest's status with its disk use and limit, where its root's qgroup counts them. */
function withDisk<T extends { name: string }>(s: T, disk: Map<string, DiskUsage>): T & { disk?: DiskUsage } {
  const d = disk.get(s.name);
  return d ? { ...s, disk: d } : s;
}

function usageByContext(env: Env): Map<number, GuestStatJson> {
  return new Map(contextStats(env, { usage: true }).map((u) => [u.context, u]));
}

function limitChanges(limits: Record<string, number | "inf">, which: "both" | "soft" | "hard"): LimitChange[] {
  return Object.entries(limits).map(([name, v]) => {
    const res = resourceInfo(name);
    if (!res) throw new UsageError(`body field 'limits.${name}' is not a resource (nproc, rss, as, cpu-shares, nofile, ...).`);
    if (res.kind === "none") throw new UsageError(`body field 'limits.${name}': ${resourceRefusal(res)}`);
    return { res, which: res.kind === "guest" ? "both" : which, value: v === "inf" ? undefined : v };
  });
}

function selectionOf(b: ManyGuests): Selection {
  if (b.guests) return { kind: "names", names: b.guests };
  return b.select === "marked" ? { kind: "marked", mark: b.mark ?? "default" } : { kind: b.select! };
}

const item = (raw: string) => ({ name: raw.replace(/^[~!]/, ""), negate: /^[~!]/.test(raw) });

export async function perform(env: Env, r: OperationRequest): Promise<unknown> {
  switch (r.op) {
    case "list": {
      const all = await plane.list(env);
      const usage = usageByContext(env);
      const disk = plane.diskUsage(env, all.filter((s) => !("error" in s)) as GuestStatus[]);
      return all.map((s) => ("error" in s ? s : withDisk(withUsage(s, usage), disk)));
    }
    case "status": {
      // One guest's usage from its own cgroup and links: no /proc pass over every guest's processes.
      const st = await plane.status(env, r.name);
      const seen = withDisk(st, plane.diskUsage(env, [st]));
      if (!st.running || st.context === undefined || st.pid === undefined) return seen;
      const net = guestNetTraffic(st.pid);
      return { ...seen, usage: { context: st.context, ...cgroupUsage(guestCgroupPath(env.paths.cgroupParent, st.context)), netRxBytes: net?.rxBytes ?? null, netTxBytes: net?.txBytes ?? null } };
    }
    case "stat":
      await plane.list(env); // as vserver-stat: guests that ended by themselves are settled first
      return contextStats(env, { usage: true });
    case "metrics": {
      const all = await plane.list(env);
      const disk = plane.diskUsage(env, all.filter((s) => !("error" in s)) as GuestStatus[]);
      return {
        guests: all.map((s) => ("error" in s ? { name: s.name, running: false } : { name: s.name, running: s.running, context: s.context, disk: disk.get(s.name) })),
        stats: contextStats(env, { usage: true }),
      };
    }
    case "settle":
      await plane.list(env);
      return null;
    case "start":
      await plane.start(env, r.name);
      return plane.status(env, r.name);
    case "stop":
      await plane.stop(env, r.name);
      return plane.status(env, r.name);
    case "restart":
      await plane.restart(env, r.name, false);
      return plane.status(env, r.name);
    case "delete":
      return { deleted: await plane.remove(env, r.name, { force: true }) };
    case "build": {
      const b = r.body;
      return plane.build(env, {
        name: b.name, method: b.method as BuildMethod, context: b.context === undefined ? undefined : String(b.context),
        hostname: b.hostname, initstyle: b.initstyle, flags: b.flags, interfaces: b.interfaces,
        force: b.force ?? false, quiet: false, methodArgs: b.methodArgs ?? [],
      });
    }
    case "boot": {
      const b = r.body;
      // Each guest's line goes to stdout: the asynchronous operation's progress.
      return bootGuests(env, { selection: selectionOf(b), stop: b.action === "stop", jobs: b.jobs ?? 1, test: false }, (l) => writeOut(l + "\n"));
    }
    case "hashify": {
      const res = await plane.hashify(env, r.name, (st) => writeOut(formatProgress(r.name, st).replace(/^\r/, "") + "\n"));
      writeOut(formatHashify(r.name, res));
      return res;
    }
    case "deunify":
      await plane.deunify(env, r.name);
      return { name: r.name, unified: false };
    case "du":
      return plane.du(env, r.name);
    case "gc": {
      const res = await plane.gc(env);
      writeOut(formatGc(res));
      return res;
    }
    case "packages": {
      // The tool's own output is the operation's; a failure of the tool fails the operation.
      const exit = await plane.packages(env, r.name, r.action, r.packages);
      if (exit !== 0) throw new ToolError(`the package tool of guest '${r.name}' ended with exit status ${exit}; its output says why.`, { guest: r.name });
      return { exit };
    }
    case "packageTool": {
      const b = r.body;
      // As vapt-get: each guest's lines labelled, an outcome per guest; the operation fails only when it could not begin.
      return runAcrossGuests(env, { selection: selectionOf(b), argv: [b.tool, ...b.args], jobs: b.jobs ?? 1 }, { out: (l) => writeOut(l + "\n"), err: (l) => writeOut(l + "\n") });
    }
    case "exec":
      return { exit: await plane.exec(env, r.name, { argv: r.argv, user: r.user, cwd: r.cwd, tty: false }) };
    case "limits":
      await plane.isRunning(env, r.name); // the not-found error for a mistyped name, and a settled guest
      // JSON has no "undefined": a limit that is not there is "inf", as vlimit prints it.
      return readLimits(liveTarget(env, r.name)).map((row) => ({ ...row, soft: row.soft === undefined ? "inf" : row.soft, hard: row.hard === undefined ? "inf" : row.hard }));
    case "setLimits":
      await plane.isRunning(env, r.name);
      return setLimits(env, liveTarget(env, r.name), limitChanges(r.limits, r.which ?? "both"), r.save ?? false);
    case "attributes":
      await plane.isRunning(env, r.name);
      return readAttributes(env, liveTarget(env, r.name));
    case "setAttributes":
      await plane.isRunning(env, r.name);
      return saveAttributes(env, liveTarget(env, r.name), { bcaps: (r.bcaps ?? []).map(item), flags: (r.flags ?? []).map(item) });
  }
}

/** `vserverd --operation`: read the request, perform it, answer, exit. */
export async function runOperationProcess(): Promise<number> {
  const warnings: string[] = [];
  let answer: OperationAnswer;
  try {
    const msg = JSON.parse(readFileSync(REQUEST_FD, "utf8")) as { caller: Caller; request: OperationRequest };
    closeSync(REQUEST_FD);
    setCaller(msg.caller);
    const env = makeEnv({ warn: (m) => warnings.push(m) });
    answer = { ok: true, result: await perform(env, msg.request), warnings };
  } catch (e) {
    const err = e as Error;
    answer = { ok: false, error: err.message, kind: e instanceof VsError ? err.name : "Error", warnings };
  }
  writeSync(ANSWER_FD, JSON.stringify(answer));
  closeSync(ANSWER_FD);
  return 0;
}

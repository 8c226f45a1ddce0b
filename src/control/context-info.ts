// vserver-info's questions (reference §1.2): facts about a guest, context or process by tag.
// A number names a context, except for XID, whose subject is a PID; "-" is the caller itself.

import { NotFoundError, NotRunningError, UsageError } from "../errors";
import { hostFeatures, type Feature } from "../drivers/host-features";
import { isAlive, readRunRecord } from "../drivers/run-state";
import { isValidGuestName } from "../pure/paths";
import type { Env } from "./env";
import { guestExists, loadGuest } from "./guests";
import { contextNames } from "./host-view";
import { contextOfProcess } from "./context-tools";
import { systemInfo } from "./sysinfo";

export const TAGS = ["CONTEXT", "ID", "RUNNING", "VDIR", "NAME", "CFGDIR", "APPDIR", "INITPID", "XID", "FEATURE", "SYSINFO"] as const;

/** The answer: lines to print (empty when the answer is only the exit status) and the status. */
export interface InfoAnswer {
  lines: string[];
  ok: boolean;
}

function guestOf(env: Env, subject: string): string {
  if (/^\d+$/.test(subject)) {
    const name = contextNames(env).get(Number(subject));
    if (!name || !guestExists(env, name)) throw new NotFoundError(`context ${subject} is not a guest's.`);
    return name;
  }
  if (!isValidGuestName(subject)) throw new UsageError(`'${subject}' is neither a guest name, a context number nor '-'.`);
  loadGuest(env, subject);
  return subject;
}

export function answerInfo(env: Env, subject: string, tag: string, arg: string | undefined, runtimeName: () => string | undefined): InfoAnswer {
  const t = tag.toUpperCase();
  switch (t) {
    case "FEATURE": {
      const all = hostFeatures(runtimeName());
      if (!arg) return { lines: all.map(featureLine), ok: true };
      const f = all.find((x) => x.name === arg.toUpperCase());
      if (!f) throw new UsageError(`unknown feature '${arg}'; 'vserver-info - FEATURE' lists them.`);
      return { lines: [featureLine(f)], ok: f.supported };
    }
    case "SYSINFO":
      if (subject !== "-") throw new UsageError(`SYSINFO is about this host: use 'vserver-info - SYSINFO', not '${subject}'.`);
      return { lines: systemInfo(env), ok: true };
    case "XID": {
      const pid = subject === "-" ? process.pid : Number(subject);
      if (!/^\d+$/.test(String(pid)) || !Number.isFinite(pid)) throw new UsageError(`XID needs a PID or '-', not '${subject}'.`);
      const ctx = contextOfProcess(env, pid);
      if (ctx === undefined) throw new NotFoundError(`no process ${pid}.`);
      return { lines: [String(ctx)], ok: true };
    }
  }
  if (subject === "-") {
    if (t === "CONTEXT" || t === "ID") return { lines: [String(contextOfProcess(env, process.pid) ?? 0)], ok: true };
    if (t === "NAME") return { lines: ["root server"], ok: true };
    throw new UsageError(`${t} needs a guest or context, not '-'.`);
  }
  if (!(TAGS as readonly string[]).includes(t)) throw new UsageError(`unknown tag '${tag}' (one of ${TAGS.join(", ")}).`);
  const name = guestOf(env, subject);
  const g = loadGuest(env, name);
  const rec = readRunRecord(env.paths, name);
  const live = rec && isAlive(rec) ? rec : undefined;
  switch (t) {
    case "CONTEXT":
      if (!live) throw new NotRunningError(`guest '${name}' is not running.`, { guest: name });
      return { lines: [String(live.context)], ok: true };
    case "ID":
      return { lines: [String(live?.context ?? g.context ?? "")], ok: live !== undefined || g.context !== undefined };
    case "RUNNING":
      return { lines: [live ? "running" : "stopped"], ok: !!live };
    case "VDIR":
      return { lines: [g.vdir], ok: true };
    case "CFGDIR":
      return { lines: [g.cfgDir], ok: true };
    case "APPDIR":
      return { lines: [`${g.cfgDir}/apps`], ok: true };
    case "NAME":
      return { lines: [g.name], ok: true };
    case "INITPID":
      if (!live) throw new NotRunningError(`guest '${name}' is not running.`, { guest: name });
      return { lines: [String(live.pid)], ok: true };
  }
  throw new UsageError(`unknown tag '${tag}'.`);
}

function featureLine(f: Feature): string {
  return `${f.name} ${f.supported ? "yes" : "no"}${f.detail ? ` ${f.detail}` : ""}`;
}

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

export const TAGS = ["CONTEXT", "ID", "RUNNING", "VDIR", "NAME", "CFGDIR", "APPDIR", "INITPID", "XID", "FEATURE", "SYSINFO",
  "INITPID_PID", "PXID", "XIDTYPE", "NID", "TAG", "CANONIFY"] as const;

/** util-vserver's tags that asked the VServer kernel itself, and why there is no answer. */
const KERNEL_ONLY: Record<string, string> = {
  APIVER: "there is no VServer kernel API on this host; 'vserver-info - FEATURE' lists what it offers instead.",
  VERIFYCAP: "it checked the VServer kernel's capability support; 'vserver-info - FEATURE' lists what this host offers.",
  VERIFYPROC: "it checked the VServer kernel's /proc setup; a guest's /proc is its own PID namespace's here.",
  UTS: "use 'vuname -g --xid NAME' for a guest's uname fields.",
};

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
    case "INITPID_PID": {
      const pid = subject === "-" ? process.pid : Number(subject);
      if (!Number.isInteger(pid) || pid < 1) throw new UsageError(`INITPID_PID needs a PID or '-', not '${subject}'.`);
      const ctx = contextOfProcess(env, pid);
      if (ctx === undefined) throw new NotFoundError(`no process ${pid}.`);
      if (ctx === 0) return { lines: ["1"], ok: true };
      const name = contextNames(env).get(ctx);
      const rec = name ? readRunRecord(env.paths, name) : undefined;
      if (!rec || !isAlive(rec)) throw new NotFoundError(`process ${pid} is in context ${ctx}, which has no guest init.`);
      return { lines: [String(rec.pid)], ok: true };
    }
    case "PXID": {
      const pid = subject === "-" ? process.pid : Number(subject);
      if (!Number.isInteger(pid) || pid < 1) throw new UsageError(`PXID needs a PID or '-', not '${subject}'.`);
      if (contextOfProcess(env, pid) === undefined) throw new NotFoundError(`no process ${pid}.`);
      // Contexts are not nested here: every context's parent is the host's.
      return { lines: ["0"], ok: true };
    }
    case "XIDTYPE": {
      const ctx = /^\d+$/.test(subject) ? Number(subject) : subject === "-" ? contextOfProcess(env, process.pid) ?? 0 : readContextOf(env, subject);
      return { lines: [ctx === 0 ? "host" : ctx === 1 ? "spectator" : ctx < 49152 ? "static" : "dynamic"], ok: true };
    }
    case "XID": {
      const pid = subject === "-" ? process.pid : Number(subject);
      if (!/^\d+$/.test(String(pid)) || !Number.isFinite(pid)) throw new UsageError(`XID needs a PID or '-', not '${subject}'.`);
      const ctx = contextOfProcess(env, pid);
      if (ctx === undefined) throw new NotFoundError(`no process ${pid}.`);
      return { lines: [String(ctx)], ok: true };
    }
  }
  if (KERNEL_ONLY[t]) throw new UsageError(`${t}: ${KERNEL_ONLY[t]}`);
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
    case "NID":
    case "TAG":
      // util-vserver's network context and file tag default to the context number; here they are it.
      return { lines: [String(live?.context ?? g.context ?? "")], ok: live !== undefined || g.context !== undefined };
    case "RUNNING":
      return { lines: [live ? "running" : "stopped"], ok: !!live };
    case "VDIR":
      return { lines: [g.vdir], ok: true };
    // A guest used from its legacy NAME.conf has no config directory: a script must not write into one.
    case "CFGDIR":
      return g.legacy ? { lines: [], ok: false } : { lines: [g.cfgDir], ok: true };
    case "APPDIR":
      return g.legacy ? { lines: [], ok: false } : { lines: [`${g.cfgDir}/apps`], ok: true };
    case "NAME":
    case "CANONIFY":
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

/** The context of a guest named by name: the running one's, else its config's. */
function readContextOf(env: Env, subject: string): number {
  const name = guestOf(env, subject);
  const rec = readRunRecord(env.paths, name);
  const ctx = rec && isAlive(rec) ? rec.context : loadGuest(env, name).context;
  if (ctx === undefined) throw new NotFoundError(`guest '${name}' has no context number until it starts.`);
  return ctx;
}

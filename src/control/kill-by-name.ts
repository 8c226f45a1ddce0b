// `vkill --xid N --name NAME`: killall for one context. The host sees every guest's processes (PID
// namespaces nest), so a habitual `killall httpd` on the host also hits every guest's httpd, where
// util-vserver's host context did not see them. Context 0 is the host's own processes only.

import { readFileSync } from "node:fs";
import { UsageError } from "../errors";
import { record } from "../drivers/journal";
import { signalProcess } from "../drivers/proc-pid";
import { scanProcesses } from "../drivers/proc-scan";
import { signalNumber } from "../drivers/process";
import type { Env } from "./env";
import { resolveContext } from "./context-tools";

function comm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trimEnd();
  } catch {
    return undefined;
  }
}

/** Signal the processes of one context whose name (as in /proc/PID/comm, killall's match) is NAME. */
export function killByName(env: Env, xid: string, names: string[], signal: NodeJS.Signals): { signalled: number[] } {
  const bad = names.find((n) => !n || n.includes("/") || n.length > 64);
  if (bad !== undefined) throw new UsageError(`--name: '${bad}' is not a process name.`);
  const ref = resolveContext(env, xid);
  const wanted = new Set(names.map((n) => n.slice(0, 15))); // the kernel keeps 15 bytes of a name
  const signalled: number[] = [];
  try {
    for (const p of scanProcesses(env.paths.cgroupParent)) {
      if (p.context !== ref.context || p.pid === process.pid) continue;
      const c = comm(p.pid);
      if (c === undefined || !wanted.has(c)) continue;
      // Through a pidfd, after checking the start time: a PID reused since the scan is not hit.
      if (signalProcess(p.pid, String(p.starttime), signalNumber(signal))) signalled.push(p.pid);
    }
    record(env.paths.logDir, { op: "kill", guest: ref.name, context: ref.context, ok: true, signal, names, pids: signalled });
    return { signalled };
  } catch (e) {
    record(env.paths.logDir, { op: "kill", guest: ref.name, context: ref.context, ok: false, signal, names, error: (e as Error).message });
    throw e;
  }
}

// vkill [--xid N|-c N] [-s SIG] [--] PID...: signals in a context (reference §1.2).

import { NotFoundError, UsageError } from "../errors";
import { makeEnv } from "../control/env";
import { killInContext } from "../control/context-tools";
import { killByName } from "../control/kill-by-name";
import { parseSignal } from "./signal-arg";
import { runMain } from "./main";
import { writeOut } from "../drivers/output";
import { parseOptions } from "./options";

const PROG = "vkill";

const HELP = `Usage: vkill [--xid N|NAME] [-s SIGNAL] [--] PID...
       vkill --xid N|NAME [-s SIGNAL] --name PROCESS-NAME...

Send SIGNAL (default TERM) to processes of a context. PID 0 means every process of the context,
all at once (the guest is frozen while they are signalled, so none escapes by forking); PID 1
means the guest's init; other PIDs are host PIDs, which must belong to the context.
Without --xid the PIDs are host processes, signalled as kill(1) would.

--name signals the processes of the context with that name, as killall(1) matches them. The
host sees every guest's processes, so 'killall httpd' on the host also stops every guest's
httpd; 'vkill --xid 0 --name httpd' stops the host's own only.
`;

export async function main(argv: string[]): Promise<number> {
  const parsed = await parseOptions("vkill", argv, { xid: { type: "string", short: "c" }, signal: { type: "string", short: "s" }, name: { type: "boolean" }, help: { type: "boolean", short: "h" } });
  const { values, positionals } = parsed;
  if (values.help) {
    writeOut(HELP);
    return 0;
  }
  if (values.name) {
    if (values.xid === undefined) throw new UsageError("--name needs --xid (0: the host's own processes), or it would reach every guest as killall does.");
    if (!positionals.length) throw new UsageError("--name: no process name given.");
    const r = killByName(makeEnv(), values.xid, positionals, parseSignal(PROG, values.signal ?? "TERM"));
    if (!r.signalled.length) throw new NotFoundError(`no process named ${positionals.join(" or ")} in context ${values.xid}.`);
    return 0;
  }
  if (!positionals.length) throw new UsageError("no PID given; 'vkill --xid N 0' signals every process of context N.");
  const pids = positionals.map((p) => {
    if (!/^\d+$/.test(p)) throw new UsageError(`'${p}' is not a PID.`);
    return Number(p);
  });
  const signal = parseSignal(PROG, values.signal ?? "TERM");
  await killInContext(makeEnv(), { xid: values.xid, signal, pids });
  return 0;
}

if (import.meta.main) runMain(PROG, main);

// vserverd: the host service that runs every command warm (docs/architecture.md, "The host
// service"). The commands start it on first use; an administrator may run it under systemd
// instead, or stop it at any time: guests never depend on it.

import { dirname } from "node:path";
import { UsageError } from "../errors";
import { makeEnv } from "../control/env";
import { runService } from "../service/supervisor";
import { runWorker } from "../service/worker";
import { procStartTime, signalProcess } from "../drivers/proc-pid";
import { lockHolder } from "../drivers/lock";
import { writeOut } from "../drivers/output";
import { runMain } from "./main";

const PROG = "vserverd";

const HELP = `Usage: vserverd [--workers N] [--idle-timeout S]
       vserverd --stop | --status

The host service: it keeps the command code loaded, so that every vserver command runs without
the JavaScript runtime's start-up. Commands start it on first use (unless VSERVER_SERVICE=off)
and run directly whenever it is absent. Stopping it never touches a running guest.
It also serves the REST API, the event stream and /metrics on the root-only socket
run/vservers/.service/api.sock beside the commands' (docs/api.md), and journals what guests do
by themselves (halt, crash, reboot, OOM kill) while it runs.

  --workers N        workers kept waiting for a command (default 4)
  --idle-timeout S   end after S seconds without a command (default 900; 0: never)
  --stop             stop the service of this state root (VSERVER_ROOT)
  --status           say whether it runs; exit 0 running, 3 not
`;

const SIGTERM = 15;

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === "--operation") {
    const { runOperationProcess } = await import("../service/api/operation");
    return runOperationProcess();
  }
  if (argv[0] === "--console") {
    // The API's console (service/api/console.ts): on the pty the service made, `enter` as a
    // terminal user would, with the API's caller in the journal.
    const { setCaller } = await import("../drivers/journal");
    const { enter } = await import("../control/plane");
    setCaller(JSON.parse(argv[2]!));
    return enter(makeEnv(), argv[1]!);
  }
  if (argv[0] === "--worker") {
    const env = makeEnv();
    await runWorker(dirname(process.argv[1]!), env.paths.serviceSocket);
    return 0;
  }
  const { parseOptions } = await import("./options");
  const { values } = await parseOptions(PROG, argv, {
    workers: { type: "string" }, "idle-timeout": { type: "string" }, stop: { type: "boolean" }, status: { type: "boolean" }, help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    writeOut(HELP);
    return 0;
  }
  const env = makeEnv();
  if (values.status) {
    const s = lockHolder(env.paths.serviceDir, "service");
    writeOut(s ? `vserverd is running (pid ${s.pid}).\n` : "vserverd is not running.\n");
    return s ? 0 : 3;
  }
  if (values.stop) {
    const s = lockHolder(env.paths.serviceDir, "service");
    if (!s) return 0;
    signalProcess(s.pid, s.start, SIGTERM);
    for (let i = 0; i < 500 && procStartTime(s.pid) === s.start; i++) await Bun.sleep(10);
    return 0;
  }
  const count = (flag: string, v: string | undefined, def: number, max: number) => {
    if (v === undefined) return def;
    if (!/^\d+$/.test(v) || Number(v) > max) throw new UsageError(`--${flag}: '${v}' is not a number from 0 to ${max}.`);
    return Number(v);
  };
  return runService(env.paths, {
    idleWorkers: Math.max(1, count("workers", values.workers, 4, 64)),
    idleTimeout: count("idle-timeout", values["idle-timeout"], 900, 86400 * 365),
    workerArgv: [process.execPath, process.argv[1]!, "--worker"],
    operationArgv: [process.execPath, process.argv[1]!, "--operation"],
    consoleArgv: [process.execPath, process.argv[1]!, "--console"],
  });
}

if (import.meta.main) runMain(PROG, main);

// vserver-stat [--json]: one line per running context (reference §1.5).

import { UsageError } from "../errors";
import { pathsFor } from "../pure/paths";
import { formatStatTable } from "../pure/format/vserver-stat";
import { contextStats } from "../control/host-view";
import { anyExited, settleAllExited } from "../control/exited";
import { makeEnv, type Env } from "../control/env";
import { runMain } from "./main";
import { writeOut } from "../drivers/output";

const PROG = "vserver-stat";

const HELP = `Usage: vserver-stat [--json]

One line per running context: CTX PROC VSZ RSS userTIME sysTIME UPTIME NAME.
Context 0 is the host ("root server"). --json gives raw numbers (bytes, seconds) plus each
guest's cgroup memory use and limit, pids count and limit, CPU time, and network bytes.
`;

export async function main(argv: string[]): Promise<number> {
  // Two flags, parsed by hand: node:util would cost ~9 ms of this view's start-up.
  const values = { json: false, help: false };
  for (const a of argv) {
    if (a === "--json") values.json = true;
    else if (a === "--help" || a === "-h") values.help = true;
    else throw new UsageError(`${a.startsWith("-") ? `unknown option '${a}'` : `unexpected argument '${a}'`}. See 'vserver-stat --help'.`);
  }
  if (values.help) {
    writeOut(HELP);
    return 0;
  }
  // The views need only the paths: no runtime is chosen, so no runtime binary is looked up.
  const env = { paths: pathsFor(process.env) } as Env;
  // A guest that ended by itself is cleaned up by the next look at it; that needs the full env.
  if (anyExited(env.paths)) await settleAllExited(makeEnv({ quiet: true, warn: () => {} }));
  const stats = contextStats(env, { usage: !!values.json });
  writeOut(values.json ? JSON.stringify(stats, null, 2) + "\n" : formatStatTable(stats));
  return 0;
}

if (import.meta.main) runMain(PROG, main);

// vps [ps options] [--json]: ps with a CONTEXT column after PID (reference §1.5).

import { UsageError, ToolError } from "../errors";
import { pathsFor } from "../pure/paths";
import { psRows, spliceContext } from "../pure/format/vps";
import { attributor } from "../control/host-view";
import type { Env } from "../control/env";
import { runMain } from "./main";
import { writeOut, writeErr } from "../drivers/output";

const PROG = "vps";

const HELP = `Usage: vps [PS-OPTIONS...] [--json]

Runs ps with the given options (default: ax) and adds a CONTEXT column after PID: the context
number and the guest's name (0 MAIN for host processes). --json gives rows with pid, context,
name and ps's fields by heading.
`;

export function main(argv: string[]): number {
  if (argv.includes("--help")) {
    writeOut(HELP);
    return 0;
  }
  const json = argv.includes("--json");
  const psArgs = argv.filter((a) => a !== "--json");
  const r = Bun.spawnSync(["ps", ...(psArgs.length ? psArgs : ["ax"])], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, COLUMNS: process.env.COLUMNS ?? "512" } });
  if (r.exitCode === null) throw new ToolError("ps did not finish.");
  const out = r.stdout.toString();
  const err = r.stderr.toString();
  if (r.exitCode !== 0 && !out.trim()) {
    const line = err.split("\n").find((l) => l.trim()) ?? `exit status ${r.exitCode}`;
    throw new UsageError(`ps refused the options '${psArgs.join(" ")}': ${line.replace(/^error:\s*/, "")}`);
  }
  const env = { paths: pathsFor(process.env) } as Env;
  const known = attributor(env);
  // ps itself has exited by now; it was ours, on the host.
  const attribute = (pid: number) => (pid === r.pid ? { context: 0, name: "MAIN" } : known(pid));
  if (json) writeOut(JSON.stringify(psRows(out, attribute), null, 2) + "\n");
  else {
    writeOut(spliceContext(out, attribute));
    if (err) writeErr(err);
  }
  return r.exitCode;
}

if (import.meta.main) runMain(PROG, main);

// vpstree [pstree options]: pstree with each context's top process marked [context name], the
// spectator view of util-vserver's scripts/vpstree with the attribution this host can give.

import { UsageError } from "../errors";
import { pathsFor } from "../pure/paths";
import { scanProcesses } from "../drivers/proc-scan";
import { contextNames } from "../control/host-view";
import type { Env } from "../control/env";
import { runMain } from "./main";
import { writeOut } from "../drivers/output";

const HELP = `Usage: vpstree [PSTREE-OPTIONS...]

pstree (with -p, which the marking needs) where every process that starts a context is followed
by [CONTEXT NAME]: a guest's init, a chcontext command.
`;

export function main(argv: string[]): number {
  if (argv.includes("--help")) {
    writeOut(HELP);
    return 0;
  }
  const r = Bun.spawnSync(["pstree", "-p", ...argv], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) {
    const line = r.stderr.toString().split("\n").find((l) => l.trim()) ?? `exit status ${r.exitCode}`;
    throw new UsageError(`pstree refused '${argv.join(" ")}': ${line}`);
  }
  const env = { paths: pathsFor(process.env) } as Env;
  const procs = scanProcesses(env.paths.cgroupParent);
  const ctx = new Map(procs.map((p) => [p.pid, p]));
  const names = contextNames(env);
  const out = r.stdout.toString().replace(/\((\d+)\)/g, (m, pid: string) => {
    const p = ctx.get(Number(pid));
    if (!p || p.context === 0) return m;
    if (ctx.get(p.ppid)?.context === p.context) return m;
    return `${m}[${p.context} ${names.get(p.context) ?? ""}]`.replace(" ]", "]");
  });
  writeOut(out);
  return 0;
}

if (import.meta.main) runMain("vpstree", main);

// vpstree [pstree options]: pstree with each context's top process marked [context name], the
// spectator view of util-vserver's scripts/vpstree with the attribution this host can give.

import { makeEnv } from "../control/env";
import { processTree } from "../control/host-view";
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
  writeOut(processTree(makeEnv(), argv));
  return 0;
}

if (import.meta.main) runMain("vpstree", main);

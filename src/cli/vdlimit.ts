// vdlimit [--xid N] [--set LIMIT=VALUE | --remove] MOUNTPOINT
// util-vserver's per-context disk limits. None can be set on this version: it says why, for
// this host, instead of pretending (docs/unification.md, "Disk limits").

import { VsError } from "../errors";
import { makeEnv } from "../control/env";
import { quotaFacts } from "../control/disk-limits";
import { diskLimitsUnavailable } from "../pure/disk-limits";
import { writeOut } from "../drivers/output";
import { runMain } from "./main";

const PROG = "vdlimit";

const HELP = `Usage: vdlimit --xid N [--set LIMIT=VALUE | --remove] MOUNTPOINT

util-vserver's disk limits of a context on a file system. Not available yet: this command says
why, for this host (the file system of the guest roots and the kernel's quota support).
`;

export function main(argv: string[]): number {
  if (argv.includes("--help") || argv.includes("-h")) {
    writeOut(HELP);
    return 0;
  }
  const env = makeEnv();
  const target = argv.filter((a) => a.startsWith("/")).pop() ?? env.paths.vdirBase;
  throw new VsError(`disk limits are not available on this host, because ${diskLimitsUnavailable(quotaFacts(target))}.`);
}

if (import.meta.main) runMain(PROG, main);

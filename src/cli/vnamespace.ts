// vnamespace: util-vserver's mount-namespace helper (reference §1.2).
//   vnamespace --enter|-e XID|NAME [--] CMD...     CMD in the guest's mount namespace
//   vnamespace --new|-n [--] CMD...                CMD in a new mount namespace

import { UsageError } from "../errors";
import { makeEnv } from "../control/env";
import { enterSpacesArgv, newSpacesArgv } from "../control/spaces";
import { execvp } from "../drivers/exec-self";
import { writeOut } from "../drivers/output";
import { runMain } from "./main";
import { parseSpaces } from "./vspace";

const PROG = "vnamespace";

const HELP = `Usage: vnamespace --enter|-e XID|NAME [--] CMD...
       vnamespace --new|-n [--] CMD...

--enter runs CMD (found in the guest's root) in the mount namespace of a running guest, as root
of the guest's own user namespace (always entered: CMD has no power over the host), without
joining its cgroup. A guest without a user namespace of its own (security/privileged) is
refused: use 'vserver NAME exec'. --new runs CMD in a new mount namespace on the host.
--set and --cleanup are not supported: a guest's mount namespace is that of its processes, and
is cleaned when the guest stops. vspace enters the other namespaces too.
`;

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === "--help" || argv[0] === "-h") {
    writeOut(HELP);
    return 0;
  }
  for (const a of argv) {
    if (a === "--") break;
    if (a === "--set" || a === "-s") throw new UsageError(`${a}: a guest's mount namespace is that of its processes; there is nothing to store.`);
    if (a === "--cleanup" || a === "-c") throw new UsageError(`${a}: a guest's mount namespace holds only the guest's own mounts, and ends with the guest.`);
    if (/^--(uts|ipc|net|pid|cgroup|default)$/.test(a)) throw new UsageError(`${a}: vnamespace knows only the mount namespace; use vspace.`);
  }
  const p = parseSpaces(PROG, argv);
  const run = p.enter !== undefined ? enterSpacesArgv(makeEnv(), p.enter, ["mount"], p.cmd, "vnamespace") : newSpacesArgv(["mount"], p.cmd);
  execvp(run);
}

if (import.meta.main) runMain(PROG, main);

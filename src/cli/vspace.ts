// vspace: run a command in new namespaces, or in a running guest's (reference §1.2).
//   vspace --enter|-e XID|NAME [SPACES] [--] CMD...
//   vspace --new|-n [SPACES] [--] CMD...

import { UsageError } from "../errors";
import { makeEnv } from "../control/env";
import { enterSpacesArgv, newSpacesArgv, SPACES, type Space } from "../control/spaces";
import { execvp } from "../drivers/exec-self";
import { writeOut } from "../drivers/output";
import { runMain } from "./main";
import { splitAtCommand } from "./options";

const PROG = "vspace";

const HELP = `Usage: vspace --enter|-e XID|NAME [--mount] [--uts] [--ipc] [--net] [--pid] [--cgroup] [--default] [--] CMD...
       vspace --new|-n [--mount] [--uts] [--ipc] [--net] [--pid] [--cgroup] [--] CMD...

--enter runs CMD (found in the guest's root) inside the namespaces of a running guest: those
named, or with none named or --default, all it has. CMD is root of the guest's own user
namespace (always entered), with every capability there and none over the host; it does not
join the guest's cgroup. A guest without a user namespace of its own (security/privileged) is
refused: use 'vserver NAME exec'. --new runs CMD in new namespaces of its own on the host
(default: a mount namespace).

Not supported: --set and --index (the kernel keeps no table of namespaces per context: a
guest's namespaces are those of its processes), --mask, --fs and --user (the user namespace
is always entered).
`;

const REFUSED: Record<string, string> = {
  "--set": "--set: the kernel keeps no table of namespaces per context; a guest's namespaces are those of its running processes.",
  "-s": "-s (--set): the kernel keeps no table of namespaces per context; a guest's namespaces are those of its running processes.",
  "--index": "--index: there are no namespace slots per context on this kernel.",
  "-i": "-i (--index): there are no namespace slots per context on this kernel.",
  "--mask": "--mask: name the namespaces (--mount, --net, ...) instead of a clone mask.",
  "--fs": "--fs: a process's root and working directory come with the mount namespace here.",
  "--user": "--user: the guest's user namespace is always entered.",
};

/** Shared by vnamespace, whose only space is the mount namespace. */
export function parseSpaces(prog: string, argv: string[]): { enter?: string; create: boolean; spaces: Space[]; cmd: string[] } {
  const { own, cmd } = splitAtCommand(argv, new Set(["--enter", "-e"]));
  let enter: string | undefined;
  let create = false;
  const spaces: Space[] = [];
  for (let i = 0; i < own.length; i++) {
    const a = own[i]!;
    if (a === "--enter" || a === "-e") {
      enter = own[++i];
      if (enter === undefined) throw new UsageError(`${a} needs a guest name or context number. See '${prog} --help'.`);
    } else if (a.startsWith("--enter=")) enter = a.slice(8);
    else if (a === "--new" || a === "-n") create = true;
    else if (a === "--default") continue;
    else if (REFUSED[a]) throw new UsageError(REFUSED[a]!);
    else if ((SPACES as readonly string[]).includes(a.slice(2)) && a.startsWith("--")) spaces.push(a.slice(2) as Space);
    else throw new UsageError(`unknown option '${a}'. See '${prog} --help'.`);
  }
  if (enter !== undefined && create) throw new UsageError("--enter and --new exclude each other.");
  if (enter === undefined && !create) throw new UsageError(`say --enter XID or --new. See '${prog} --help'.`);
  return { enter, create, spaces, cmd };
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === "--help" || argv[0] === "-h") {
    writeOut(HELP);
    return 0;
  }
  const p = parseSpaces(PROG, argv);
  const run = p.enter !== undefined ? enterSpacesArgv(makeEnv(), p.enter, p.spaces, p.cmd, "vspace") : newSpacesArgv(p.spaces, p.cmd);
  execvp(run);
}

if (import.meta.main) runMain(PROG, main);

// exec-cd DIR CMD [ARGS...]: change into DIR, resolved with the current directory as its root,
// then run CMD (util-vserver's exec-cd, reference §1.2). Run from a guest's root, a symlink or a
// `..` chain the guest planted in DIR cannot lead out of it: the kernel resolves every component
// below the current directory (openat2 RESOLVE_IN_ROOT), and the directory found is entered by
// its descriptor.

import { UsageError, NotFoundError } from "../errors";
import { GuestRoot } from "../drivers/safe-fs";
import { execvp } from "../drivers/exec-self";
import { writeOut } from "../drivers/output";
import { runMain } from "./main";

const PROG = "exec-cd";

const HELP = `Usage: exec-cd DIR CMD [ARGS...]

Change into DIR and run CMD there. DIR is resolved below the current directory, which acts as
its root: an absolute DIR, a symbolic link or '..' cannot lead out of it (run it from a guest's
root to enter a directory of the guest without following the guest's links onto the host).
CMD is found on the PATH as usual.
`;

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === "--help" || argv[0] === "-h") {
    writeOut(HELP);
    return 0;
  }
  const args = argv[0] === "--" ? argv.slice(1) : argv;
  if (args.length < 2) throw new UsageError(`give a directory and a command. See '${PROG} --help'.`);
  const [dir, ...cmd] = args as [string, ...string[]];
  const root = new GuestRoot(".");
  try {
    root.chdirInto(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw new NotFoundError(`${dir}: no such directory below ${process.cwd()}.`);
    throw e;
  } finally {
    root.close();
  }
  execvp(cmd);
}

if (import.meta.main) runMain(PROG, main);

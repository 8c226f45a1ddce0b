// vmount GUEST -- [-o OPTS] [--bind|--rbind] [-t TYPE] [-n] SRC DST: mount into a running guest.

import { UsageError } from "../errors";
import { makeEnv } from "../control/env";
import { mountIntoGuest } from "../control/vmount";
import { parseVmountArgs, VmountArgError } from "../pure/vmount-args";
import { writeOut } from "../drivers/output";
import { runMain } from "./main";

const PROG = "vmount";

const HELP = `Usage: vmount GUEST|XID -- [-o OPTIONS] (--bind|--rbind SRC DST | -t TYPE SOURCE DST)

Mount into a running guest. SRC is a path on the host; DST a path inside the guest, resolved in
the guest's root (a symbolic link there cannot lead onto the host). For a guest with its own
user namespace the mount is idmapped, so the guest sees the files' usual owners. Mounts are
nosuid and nodev unless -o suid or -o dev says otherwise.

  --bind, --rbind     bind a host directory or file (--rbind: with the mounts below it)
  -t TYPE SOURCE      a new file system (tmpfs none, a device ...); -o options go to it
  -o ro,noexec,...    ro, nosuid, nodev, noexec, suid, dev, exec; other options to the file system
  -n                  accepted (there is no mtab to write)
The mount lasts until the guest stops (or umount inside the guest). -a and --move are not
supported.
`;

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === "--help" || argv[0] === "-h") {
    writeOut(HELP);
    return 0;
  }
  const dash = argv.indexOf("--");
  const guest = dash < 0 ? argv[0] : argv.slice(0, dash)[0];
  const rest = dash < 0 ? argv.slice(1) : argv.slice(dash + 1);
  if (!guest || (dash >= 0 && dash !== 1)) throw new UsageError(`give one guest, then -- and the mount's arguments. See '${PROG} --help'.`);
  let plan;
  try {
    plan = parseVmountArgs(rest);
  } catch (e) {
    if (e instanceof VmountArgError) throw new UsageError(`${e.message} See '${PROG} --help'.`);
    throw e;
  }
  mountIntoGuest(makeEnv(), guest, plan);
  return 0;
}

if (import.meta.main) runMain(PROG, main);

// vdlimit --xid N|NAME [--set LIMIT=VALUE]... [--remove] DIR
// util-vserver's per-context disk limits, live. The guest is named by its context or name; its
// root, a btrfs subvolume, carries the limit as a qgroup limit (docs/unification.md, "Disk limits").

import { UsageError } from "../errors";
import { makeEnv } from "../control/env";
import { diskLimit, setDiskLimitOf } from "../control/plane";
import { usedContexts } from "../control/build";
import { formatDiskLimit, parseVdlimitSet } from "../pure/disk-limits";
import { writeOut } from "../drivers/output";
import { realpathSync } from "node:fs";
import { loadGuest } from "../control/guests";
import { runMain } from "./main";
import { OptionLexer } from "./options";

const PROG = "vdlimit";

const HELP = `Usage: vdlimit --xid N|NAME [--set space_total=KiB|inf]... [--remove] DIR

util-vserver's disk limit of a guest, set live on its root whether it runs or not. DIR is the
guest's root or a directory above it on the same file system (util-vserver's mount point).
Without --set or --remove prints space_used and space_total in KiB (inf: no limit).
  --set space_total=N  limit what the guest's root holds of its own to N KiB
  --remove             remove the limit
The root must be a btrfs subvolume, as build makes it on btrfs; the limit is its qgroup's
exclusive bytes, so data it shares by reflink is not charged. btrfs counts no inodes and
reserves no space per guest: inodes_total and reserved are refused. Quotas are turned on for the
file system when a limit is first set (said once). The guest's dlimits/ is applied at each start.
`;

/** --xid names a guest by its name or context number. */
function guestOfXid(xid: string): string {
  if (!/^\d+$/.test(xid)) return xid;
  const name = usedContexts(makeEnv()).get(Number(xid));
  if (!name) throw new UsageError(`--xid ${xid}: no guest has context ${xid}.`);
  return name;
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

export async function main(argv: string[]): Promise<number> {
  let xid: string | undefined;
  let remove = false;
  let spaceKiB: number | undefined;
  let set = false;
  const dirs: string[] = [];
  const words = new OptionLexer(argv);
  for (let a = words.next(); a !== undefined; a = words.next()) {
    if (a === "-h" || a === "--help") {
      writeOut(HELP);
      return 0;
    } else if (a === "--xid") xid = words.value();
    else if (a === "--set") {
      spaceKiB = parseVdlimitSet(words.value()).spaceKiB;
      set = true;
    } else if (a === "--remove") remove = true;
    else if (a === "--flags") words.value(); // util-vserver's dlimit flags: none of them has a meaning here
    else if (a.startsWith("-")) throw new UsageError(`unknown option '${a}'; see vdlimit --help.`);
    else dirs.push(a);
  }
  if (!xid) throw new UsageError("--xid N|NAME is required: it names the guest.");
  if (dirs.length !== 1) throw new UsageError("one DIR is required: the guest's root or a directory above it.");
  if (set && remove) throw new UsageError("--set and --remove cannot be given together.");
  const env = makeEnv();
  const name = guestOfXid(xid);
  const g = loadGuest(env, name);
  const dir = realOrSelf(dirs[0]!);
  const root = realOrSelf(g.vdir);
  if (root !== dir && !root.startsWith(dir === "/" ? "/" : `${dir}/`)) {
    throw new UsageError(`${dirs[0]} does not hold the root of guest '${name}' (${root}).`);
  }
  if (set || remove) {
    await setDiskLimitOf(env, name, remove || spaceKiB === undefined ? undefined : spaceKiB * 1024);
    return 0;
  }
  const s = await diskLimit(env, name);
  writeOut(formatDiskLimit(s.usedBytes, s.limitBytes));
  return 0;
}

if (import.meta.main) runMain(PROG, main);

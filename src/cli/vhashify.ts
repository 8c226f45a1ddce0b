// vhashify NAME...   and   vhashify --gc
// util-vserver's vhashify: a guest's files into the shared store (docs/unification.md).

import { UsageError } from "../errors";
import * as plane from "../control/plane";
import { formatGc } from "../pure/format/unify";
import { writeOut } from "../drivers/output";
import { runMain } from "./main";
import { parseUnifyArgs, unifyEach } from "./unify-command";

const PROG = "vhashify";

const HELP = `Usage: vhashify [--silent] NAME...
       vhashify --gc

Move the files of each stopped guest into the store shared by all guests of this host (named by
the SHA-256 of their content) and make its root an overlay of its metadata tree, the store and
its own upper directory. Run it again after upgrades inside the guest: files its packages
replaced go into the store too, and the guest's own directory is emptied. Files its
apps/vunify/exclude list names (else that of .defaults, else util-vserver's list: /etc/*, /var,
/tmp, /home, /root/*, ...) keep their content with the guest, in its metadata tree.

  --gc        remove the objects of the store that no guest refers to any more
  --refresh   accepted (every run looks at every file)
  --silent    no output
Needs the guest roots on XFS (or ext4 made with 512-byte inodes); docs/unification.md.
`;

export async function main(argv: string[]): Promise<number> {
  const a = await parseUnifyArgs(PROG, argv, HELP, { gc: { type: "boolean" }, refresh: { type: "boolean" } });
  if (!a) return 0;
  if (a.values.gc) {
    if (a.names.length) throw new UsageError(`--gc takes no guest name ('${a.names[0]}'): it looks at every guest.`);
    const r = await plane.gc(a.env);
    if (!a.quiet) writeOut(formatGc(r));
    return 0;
  }
  if (!a.names.length) throw new UsageError("no guest given; usage: vhashify NAME... or vhashify --gc.");
  await unifyEach(a, false);
  return 0;
}

if (import.meta.main) runMain(PROG, main);

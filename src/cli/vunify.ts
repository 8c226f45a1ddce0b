// vunify [-R] NAME...
// util-vserver's vunify. Every unified guest shares the one store of its host, so unifying a
// guest with its reference guests (apps/vunify/refserver.*) is hashifying it; -R undoes that.

import { UsageError } from "../errors";
import { runMain } from "./main";
import { parseUnifyArgs, unifyEach } from "./unify-command";

const PROG = "vunify";

const HELP = `Usage: vunify [-R] [--silent] NAME...

Unify each stopped guest: its files go into the store all unified guests of this host share, so
it shares every identical file with every other unified guest (the reference guests of
apps/vunify/refserver.* are not needed: the store is their common ground). The same as
'vserver NAME hashify'. Files its apps/vunify/exclude list names (else that of .defaults, else
util-vserver's list: /etc/*, /var, /tmp, /home, /root/*, ...) keep their content with the guest.

  -R        undo: give the guest a plain tree again (a copy of what it sees), and leave the store
  --silent  no output
`;

export async function main(argv: string[]): Promise<number> {
  const a = await parseUnifyArgs(PROG, argv, HELP, { R: { type: "boolean", short: "R" } });
  if (!a) return 0;
  if (!a.names.length) throw new UsageError("no guest given; usage: vunify [-R] NAME....");
  await unifyEach(a, !!a.values.R);
  return 0;
}

if (import.meta.main) runMain(PROG, main);

// vdu [--json] NAME...: a guest's own disk use against what it shares through the store.

import { UsageError } from "../errors";
import { makeEnv } from "../control/env";
import * as plane from "../control/plane";
import { guestNameOf } from "../control/guest-ref";
import { formatDiskUse } from "../pure/format/unify";
import { writeOut } from "../drivers/output";
import { runMain } from "./main";

const PROG = "vdu";

const HELP = `Usage: vdu [--json] NAME...

For each guest: the bytes and inodes it holds itself (a unified guest: what it wrote since it was
last hashified, in its upper directory; any other: its whole tree), the bytes and inodes of its
metadata tree (its directories, and the files apps/vunify/exclude kept out of the store), and the
objects of the shared store it uses, with how many of them other guests use too.
(util-vserver's vdu counted the files tagged with a context under a directory; guests here are
told apart by their trees.)
`;

export async function main(argv: string[]): Promise<number> {
  const { parseArgs } = await import("node:util");
  const { values, positionals } = parseArgs({
    args: argv, strict: true, allowPositionals: true,
    options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    writeOut(HELP);
    return 0;
  }
  if (!positionals.length) throw new UsageError("no guest given; usage: vdu [--json] NAME....");
  const env = makeEnv();
  const all: Record<string, unknown> = {};
  for (const given of positionals) {
    const name = guestNameOf(env, given);
    const d = await plane.du(env, name);
    if (values.json) all[name] = d;
    else writeOut(formatDiskUse(name, d));
  }
  if (values.json) writeOut(JSON.stringify(all, null, 2) + "\n");
  return 0;
}

if (import.meta.main) runMain(PROG, main);

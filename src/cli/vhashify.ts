// vhashify NAME...   and   vhashify --gc
// util-vserver's vhashify: a guest's files into the shared store (docs/unification.md).

import { UsageError } from "../errors";
import { makeEnv } from "../control/env";
import * as plane from "../control/plane";
import { guestNameOf } from "../control/guest-ref";
import { formatGc, formatHashify } from "../pure/format/unify";
import { writeOut } from "../drivers/output";
import { runMain, warn } from "./main";
import { hashifyProgress } from "./unify-progress";

const PROG = "vhashify";

const HELP = `Usage: vhashify [--silent] NAME...
       vhashify --gc

Move the files of each stopped guest into the store shared by all guests of this host (named by
the SHA-256 of their content) and make its root an overlay of its metadata tree, the store and
its own upper directory. Run it again after upgrades inside the guest: files its packages
replaced go into the store too, and the guest's own directory is emptied.

  --gc        remove the objects of the store that no guest refers to any more
  --refresh   accepted (every run looks at every file)
  --silent    no output
Needs the guest roots on XFS (or ext4 made with 512-byte inodes); docs/unification.md.
`;

export async function main(argv: string[]): Promise<number> {
  const { parseArgs } = await import("node:util");
  const { values, positionals } = parseArgs({
    args: argv, strict: true, allowPositionals: true,
    options: { gc: { type: "boolean" }, refresh: { type: "boolean" }, silent: { type: "boolean", short: "s" }, verbose: { type: "boolean", short: "v" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    writeOut(HELP);
    return 0;
  }
  const quiet = !!values.silent;
  const env = makeEnv({ quiet, warn: quiet ? () => {} : (m) => warn(PROG, m) });
  if (values.gc) {
    if (positionals.length) throw new UsageError(`--gc takes no guest name ('${positionals[0]}'): it looks at every guest.`);
    const r = await plane.gc(env);
    if (!quiet) writeOut(formatGc(r));
    return 0;
  }
  if (!positionals.length) throw new UsageError("no guest given; usage: vhashify NAME... or vhashify --gc.");
  for (const given of positionals) {
    const name = guestNameOf(env, given);
    const p = hashifyProgress(name, quiet);
    try {
      const r = await plane.hashify(env, name, p.progress);
      p.done();
      if (!quiet) writeOut(formatHashify(name, r));
    } catch (e) {
      p.done();
      throw e;
    }
  }
  return 0;
}

if (import.meta.main) runMain(PROG, main);

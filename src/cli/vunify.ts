// vunify [-R] NAME...
// util-vserver's vunify. Every unified guest shares the one store of its host, so unifying a
// guest with its reference guests (apps/vunify/refserver.*) is hashifying it; -R undoes that.

import { UsageError } from "../errors";
import { makeEnv } from "../control/env";
import * as plane from "../control/plane";
import { guestNameOf } from "../control/guest-ref";
import { formatHashify } from "../pure/format/unify";
import { writeOut } from "../drivers/output";
import { runMain, warn } from "./main";
import { hashifyProgress } from "./unify-progress";

const PROG = "vunify";

const HELP = `Usage: vunify [-R] [--silent] NAME...

Unify each stopped guest: its files go into the store all unified guests of this host share, so
it shares every identical file with every other unified guest (the reference guests of
apps/vunify/refserver.* are not needed: the store is their common ground). The same as
'vserver NAME hashify'.

  -R        undo: give the guest a plain tree again (a copy of what it sees), and leave the store
  --silent  no output
`;

export async function main(argv: string[]): Promise<number> {
  const { parseArgs } = await import("node:util");
  const { values, positionals } = parseArgs({
    args: argv, strict: true, allowPositionals: true,
    options: { R: { type: "boolean", short: "R" }, silent: { type: "boolean", short: "s" }, verbose: { type: "boolean", short: "v" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    writeOut(HELP);
    return 0;
  }
  if (!positionals.length) throw new UsageError("no guest given; usage: vunify [-R] NAME....");
  const quiet = !!values.silent;
  const env = makeEnv({ quiet, warn: quiet ? () => {} : (m) => warn(PROG, m) });
  for (const given of positionals) {
    await unifyOne(env, guestNameOf(env, given), !!values.R, quiet);
  }
  return 0;
}

/** One guest, either way; also `vserver NAME unify [-R]`. */
export async function unifyOne(env: ReturnType<typeof makeEnv>, name: string, reverse: boolean, quiet: boolean): Promise<void> {
  if (reverse) {
    await plane.deunify(env, name);
    if (!quiet) writeOut(`guest '${name}' has a plain tree again\n`);
    return;
  }
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

if (import.meta.main) runMain(PROG, main);

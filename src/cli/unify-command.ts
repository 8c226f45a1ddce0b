// What vhashify, vunify and `vserver NAME hashify|unify` share: their common options, one guest
// after another, progress of a long hashify on a terminal (one line redrawn in place on stderr,
// nothing otherwise), and the line each prints.

import { makeEnv, type Env } from "../control/env";
import * as plane from "../control/plane";
import { guestNameOf } from "../control/guest-ref";
import { formatHashify, formatProgress } from "../pure/format/unify";
import { isTerminal } from "../drivers/terminal";
import { writeErr, writeOut } from "../drivers/output";
import type { Progress } from "../drivers/unify/generation";
import { warn } from "./main";

type ExtraOptions = Record<string, { type: "boolean"; short?: string }>;

export interface UnifyArgs {
  values: Record<string, boolean | undefined>;
  names: string[];
  env: Env;
  quiet: boolean;
}

/**
 * Parse the options every unification command takes (`--silent`, `-v`, `--help`) and `extra`;
 * undefined after printing `help` for --help. Guest names are left as given.
 */
export async function parseUnifyArgs(prog: string, argv: string[], help: string, extra: ExtraOptions): Promise<UnifyArgs | undefined> {
  const { parseArgs } = await import("node:util");
  const { values, positionals } = parseArgs({
    args: argv, strict: true, allowPositionals: true,
    options: { ...extra, silent: { type: "boolean", short: "s" }, verbose: { type: "boolean", short: "v" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    writeOut(help);
    return undefined;
  }
  const quiet = !!values.silent;
  const env = makeEnv({ quiet, warn: quiet ? () => {} : (m) => warn(prog, m) });
  return { values: values as UnifyArgs["values"], names: positionals, env, quiet };
}

function hashifyProgress(name: string, quiet: boolean): { progress?: Progress; done(): void } {
  if (quiet || !isTerminal(2)) return { done() {} };
  let shown = false;
  return {
    progress: (s) => {
      shown = true;
      writeErr(formatProgress(name, s));
    },
    done: () => {
      if (shown) writeErr("\n");
    },
  };
}

/** One guest, either way (`reverse`: `unify -R`). */
export async function unifyOne(env: Env, name: string, reverse: boolean, quiet: boolean): Promise<void> {
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

/** Each guest named, in order; the first failure ends the run. */
export async function unifyEach(a: UnifyArgs, reverse: boolean): Promise<void> {
  for (const given of a.names) await unifyOne(a.env, guestNameOf(a.env, given), reverse, a.quiet);
}

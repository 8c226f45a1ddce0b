// Option parsing shared by the commands: node:util's parseArgs, loaded only when a command parses
// options (it costs ~9 ms of start-up under Bun), with its errors turned into one UsageError line
// that points at the command's --help.

import type { ParseArgsConfig } from "node:util";
import { UsageError } from "../errors";

type Options = NonNullable<ParseArgsConfig["options"]>;

export async function parseOptions<O extends Options>(prog: string, args: string[], options: O, allowPositionals = true) {
  const { parseArgs } = await import("node:util");
  try {
    return parseArgs({ args, options, strict: true, allowPositionals });
  } catch (e) {
    // parseArgs appends a hint on positionals that start with '-'; one plain sentence is enough.
    const first = (e as Error).message.split("\n")[0]!.replace(/\. To specify a positional argument.*$/, ".");
    throw new UsageError(`${first} See '${prog} --help'.`);
  }
}

/**
 * For the hand-written lexers (vlimit, vattribute, whose util-vserver flags are order-dependent or
 * prefixed with ~ and !): `--name=value` split into the option and its inline value.
 */
export function splitInline(arg: string): { opt: string; inline?: string } {
  const eq = arg.indexOf("=");
  return arg.startsWith("--") && eq > 0 ? { opt: arg.slice(0, eq), inline: arg.slice(eq + 1) } : { opt: arg };
}

/**
 * For commands that run a command (chcontext, reducecap): their own options end at `--` or at the
 * first word that is not an option, as in util-vserver, so `chcontext ps -ef` runs `ps -ef`. This
 * also covers `chcontext -- CMD`, whose `--` Bun drops from a script's arguments. `takesValue`
 * names the options whose value is the next word.
 */
export function splitAtCommand(argv: string[], takesValue: ReadonlySet<string>): { own: string[]; cmd: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") return { own: argv.slice(0, i), cmd: argv.slice(i + 1) };
    if (!a.startsWith("-") || a === "-") return { own: argv.slice(0, i), cmd: argv.slice(i) };
    if (takesValue.has(a)) i++;
  }
  return { own: argv, cmd: [] };
}

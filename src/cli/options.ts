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
 * For the hand-written lexers (vlimit, vattribute, vsched, vdlimit, vserver-events and the
 * vapt-get family), whose util-vserver flags are order-dependent, prefixed with ~ and !, or end
 * at `--`: walks the words one at a time, splitting `--name=value`, and gives an option its
 * value from there or from the next word. A missing or empty value is one sentence naming the
 * option, with `usage` (the command's name) pointing at its --help when given.
 */
export class OptionLexer {
  private i = -1;
  private inline: string | undefined;
  /** The current option, without an inline `=value`. */
  opt = "";

  constructor(private readonly argv: readonly string[], private readonly usage?: string) {}

  /** Moves to the next word and returns it (its option part for `--name=value`); undefined at the end. */
  next(): string | undefined {
    if (++this.i >= this.argv.length) return undefined;
    const { opt, inline } = splitInline(this.argv[this.i]!);
    this.opt = opt;
    this.inline = inline;
    return opt;
  }

  /** The current option's value: its inline `=value`, or else the next word, which it consumes. */
  value(): string {
    const v = this.inline ?? this.argv[++this.i];
    this.inline = undefined;
    if (v === undefined || v === "") {
      throw new UsageError(`${this.opt} needs a value${this.usage ? `; see '${this.usage} --help'` : ""}.`);
    }
    return v;
  }
}

/** `--name=value` split into the option and its inline value. */
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

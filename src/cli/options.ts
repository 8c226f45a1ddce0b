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

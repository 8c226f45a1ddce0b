// The commands that run one command in many guests: vsomething, and vapt-get, vrpm and vyum,
// which are vsomething with the tool fixed (util-vserver's scripts/vsomething and its users).

import { UsageError } from "../errors";
import { makeEnv } from "../control/env";
import { runAcrossGuests } from "../control/across-guests";
import type { Selection } from "../pure/boot-order";
import { writeOut, writeErr } from "../drivers/output";
import { warn } from "./main";
import { OptionLexer } from "./options";

const SELECTORS = `  GUEST...             these guests (util-vserver's ALL: every guest)
  --all                every guest; those not running are skipped
  --running            the guests that run
  --marked MARK        the guests whose apps/init/mark is MARK (--mark MARK too)
  --unmarked           the guests without apps/init/mark
  -j, --jobs N         guests at a time (default 1, at most 64)
  -q, --quiet          no summary line
  --debug              on an error, where it happened`;

function help(prog: string, tool: string | undefined): string {
  const usage = tool
    ? `Usage: ${prog} [-q] [-j N] (GUEST... | ALL | --all | --running | --marked MARK | --unmarked) -- ${tool.toUpperCase()}-ARGS...`
    : `Usage: ${prog} [-q] [-j N] CMD (GUEST... | ALL | --all | --running | --marked MARK | --unmarked) -- ARGS...`;
  const what = tool ? `the guest's own ${tool} with ARGS` : "CMD with ARGS";
  return `${usage}

Run ${what} inside each chosen guest (it must be running), as root, as 'vserver GUEST exec'
would. Each line of output is labelled 'GUEST: '; when a guest's command ends, one line says
'GUEST: ok' or 'GUEST: failed (why)' (a guest without the program says so). Exit 1 if any
guest failed, 2 for bad arguments.

${SELECTORS}
`;
}

/** Parse and run; `tool` is fixed for vapt-get, vrpm, vyum, and the first argument for vsomething. */
export async function acrossMain(prog: string, tool: string | undefined, argv: string[]): Promise<number> {
  const dd = argv.indexOf("--");
  const own = dd < 0 ? argv : argv.slice(0, dd);
  const args = dd < 0 ? [] : argv.slice(dd + 1);
  let jobs = 1;
  let quiet = false;
  const sets: Selection[] = [];
  const positionals: string[] = [];
  const words = new OptionLexer(own, prog);
  for (let a = words.next(); a !== undefined; a = words.next()) {
    if (a === "-h" || a === "--help") {
      writeOut(help(prog, tool));
      return 0;
    } else if (a === "-q" || a === "--quiet") quiet = true;
    else if (a === "-j" || a === "--jobs" || /^-j\d+$/.test(a)) {
      const v = a.length > 2 && a !== "--jobs" ? a.slice(2) : words.value();
      if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 64) throw new UsageError(`-j: '${v}' is not a number from 1 to 64.`);
      jobs = Number(v);
    } else if (a === "--all") sets.push({ kind: "all" });
    else if (a === "--running") sets.push({ kind: "running" });
    else if (a === "--unmarked") sets.push({ kind: "unmarked" });
    else if (a === "--marked" || a === "--mark") sets.push({ kind: "marked", mark: words.value() });
    else if (a === "--debug") process.env.VSERVER_DEBUG = "1";
    else if (a === "--stopped") throw new UsageError("--stopped: a command runs inside running guests only; a stopped guest has nothing to run it in.");
    else if (a.startsWith("-")) throw new UsageError(`unknown option '${a}'; see '${prog} --help'.`);
    else positionals.push(a);
  }
  const command = tool ?? positionals.shift();
  if (!command) throw new UsageError(`no command given; usage: ${prog} CMD GUEST... -- ARGS.`);
  if (positionals.includes("ALL")) {
    if (positionals.length > 1) throw new UsageError("ALL means every guest; name no other guest beside it.");
    positionals.length = 0;
    sets.push({ kind: "all" });
  }
  if (sets.length + (positionals.length ? 1 : 0) !== 1) {
    throw new UsageError(`say which guests: names, ALL, or one of --all, --running, --marked MARK, --unmarked; arguments for ${command} go after '--'.`);
  }
  const selection: Selection = sets[0] ?? { kind: "names", names: positionals };
  const env = makeEnv({ warn: (m) => warn(prog, m) });
  const outcomes = await runAcrossGuests(env, { selection, argv: [command, ...args], jobs }, {
    out: (l) => writeOut(l + "\n"),
    err: (l) => writeErr(l + "\n"),
  });
  const count = (r: string) => outcomes.filter((o) => o.result === r);
  const failed = count("failed");
  if (!quiet) {
    const skipped = count("skipped");
    writeOut(`${prog}: ${count("ok").length} ok, ${failed.length} failed${failed.length ? ` (${failed.map((o) => o.name).join(" ")})` : ""}${skipped.length ? `, ${skipped.length} skipped (not running)` : ""}\n`);
  }
  return failed.length ? 1 : 0;
}

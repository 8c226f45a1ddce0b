// start-vservers [-m MARK] [-j N] [--test] [--start|--stop] [--all|--marked|--unmarked|--running|--stopped] [--] [NAME...]
// util-vserver's boot-time orchestration (reference §6.4): many guests in apps/init/depends order.

import { UsageError } from "../errors";
import { makeEnv } from "../control/env";
import { bootGuests } from "../control/boot";
import type { Selection } from "../pure/boot-order";
import { runMain } from "./main";
import { writeOut } from "../drivers/output";
import { parseOptions } from "./options";
import { list } from "../control/plane";
import { formatBootStatus } from "../pure/format/guest-status";

const PROG = "start-vservers";

const HELP = `Usage: start-vservers [--start|--stop] [-j N] [--test] [-m MARK]
                      (--all | --marked | --unmarked | --running | --stopped | [--] NAME...)
       start-vservers --status [--json]

Start (default) or stop many guests. A guest starts only after the guests named in its
apps/init/depends run, and stops before them; up to N guests (default 1) are started or stopped
at a time. A guest that fails stops only the guests that depend on it. One line per guest:
NAME: started|stopped|skipped|failed[: why]. Exit 1 if any guest failed.

  --all                every guest
  --marked             the guests whose apps/init/mark is MARK (-m, default 'default'), as at boot
  --unmarked           the guests without apps/init/mark
  --running, --stopped the guests that run, or do not
  -m, --mark MARK      the mark for --marked
  -j, --jobs N         guests at a time (1 to 64)
  --test               print the order (one line per wave of guests done together), do nothing
  --status             every guest at once: context, state, mark, processes, uptime (--json:
                       the same as objects); changes nothing
`;

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = await parseOptions(PROG, argv, {
    start: { type: "boolean" }, stop: { type: "boolean" }, jobs: { type: "string", short: "j" },
    test: { type: "boolean" }, mark: { type: "string", short: "m" }, all: { type: "boolean" },
    marked: { type: "boolean" }, unmarked: { type: "boolean" }, running: { type: "boolean" },
    stopped: { type: "boolean" }, help: { type: "boolean", short: "h" }, status: { type: "boolean" }, json: { type: "boolean" },
  });
  if (values.help) {
    writeOut(HELP);
    return 0;
  }
  if (values.status) {
    const extra = Object.keys(values).filter((k) => k !== "status" && k !== "json");
    if (extra.length || positionals.length) throw new UsageError(`--status shows every guest and goes with --json only${extra.length ? ` (not --${extra[0]})` : ""}.`);
    const all = await list(makeEnv());
    writeOut(values.json ? JSON.stringify(all, null, 2) + "\n" : formatBootStatus(all));
    return 0;
  }
  if (values.json) throw new UsageError("--json goes with --status.");
  if (values.start && values.stop) throw new UsageError("--start and --stop exclude each other.");
  const selectors = (["all", "marked", "unmarked", "running", "stopped"] as const).filter((k) => values[k]);
  if (selectors.length + (positionals.length ? 1 : 0) !== 1) {
    throw new UsageError("say which guests: names, or one of --all, --marked, --unmarked, --running, --stopped.");
  }
  if (values.mark !== undefined && !values.marked) throw new UsageError("-m MARK goes with --marked.");
  const jobsRaw = values.jobs ?? "1";
  if (!/^\d+$/.test(jobsRaw) || Number(jobsRaw) < 1 || Number(jobsRaw) > 64) throw new UsageError(`-j: '${jobsRaw}' is not a number from 1 to 64.`);
  const kind = selectors[0];
  const selection: Selection = !kind ? { kind: "names", names: positionals }
    : kind === "marked" ? { kind: "marked", mark: values.mark ?? "default" }
    : { kind };
  const outcomes = await bootGuests(makeEnv(), { selection, stop: !!values.stop, jobs: Number(jobsRaw), test: !!values.test }, (l) => writeOut(l + "\n"));
  return outcomes.some((o) => o.result === "failed") ? 1 : 0;
}

if (import.meta.main) runMain(PROG, main);

// reducecap [--secure] [--cap CAP]... [--CAP_NAME]... -- CMD...   and   reducecap --show [--pid P]
// CMD runs with a lowered capability bounding set; no process below it can raise it again, not
// through a setuid-root binary nor through file capabilities (reference §1.2, §3.4).

import { existsSync } from "node:fs";
import { NotFoundError, UsageError } from "../errors";
import { knownCaps, ownBoundingSet } from "../control/new-context";
import { setprivArgs } from "../pure/cap-mask";
import { DEFAULT_CAPABILITIES, normaliseCapName, type CapName } from "../pure/config/capabilities";
import { execvp } from "../drivers/exec-self";
import { runMain } from "./main";
import { writeOut } from "../drivers/output";
import { parseOptions } from "./options";

const PROG = "reducecap";

const HELP = `Usage: reducecap [--secure] [--cap CAP]... [--CAP_NAME]... -- CMD [ARGS...]
       reducecap --show [--pid PID]

Run CMD with the capability bounding set lowered, for it and every process it starts.
  --secure      keep only util-vserver's safe set (the guests' default capabilities)
  --cap CAP     remove CAP (CAP_NET_RAW or NET_RAW); --CAP_NET_RAW is the same
  --show        print the bounding set of PID (default: this process) and exit
`;

export async function main(argv: string[]): Promise<number> {
  const dd = argv.indexOf("--");
  const own = dd < 0 ? argv : argv.slice(0, dd);
  // util-vserver's --CAP_NAME form: turn it into --cap NAME before parsing.
  const norm: string[] = [];
  for (const a of own) {
    if (/^--CAP_[A-Z_]+$/.test(a)) norm.push("--cap", a.slice(2));
    else norm.push(a);
  }
  const parsed = await parseOptions("reducecap", norm, { secure: { type: "boolean" }, cap: { type: "string", multiple: true }, show: { type: "boolean" }, pid: { type: "string" }, flag: { type: "string", multiple: true }, help: { type: "boolean", short: "h" } });
  const { values: v, positionals } = parsed;
  if (v.help) {
    writeOut(HELP);
    return 0;
  }
  if (v.show) {
    const pid = v.pid ?? "self";
    if (pid !== "self" && !/^\d+$/.test(pid)) throw new UsageError(`--pid: '${pid}' is not a PID.`);
    if (!existsSync(`/proc/${pid}/status`)) throw new NotFoundError(`no process ${pid}.`);
    writeOut(ownBoundingSet(pid === "self" ? "self" : Number(pid)).map((c) => `CAP_${c}`).join(" ") + "\n");
    return 0;
  }
  if (v.pid) throw new UsageError("--pid goes with --show.");
  const cmd = dd < 0 ? positionals : [...positionals, ...argv.slice(dd + 1)];
  if (!cmd.length) throw new UsageError("no command given; usage: reducecap [--secure] [--cap CAP]... -- CMD.");
  let drop: CapName[];
  try {
    drop = (v.cap ?? []).map((c) => normaliseCapName(c, "--cap"));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const held = ownBoundingSet();
  const base = v.secure ? held.filter((c) => DEFAULT_CAPABILITIES.includes(c)) : held;
  const keep = base.filter((c) => !drop.includes(c));
  const opts = setprivArgs(keep, knownCaps());
  execvp(opts.length ? ["setpriv", ...opts, "--", ...cmd] : cmd);
}

if (import.meta.main) runMain(PROG, main);

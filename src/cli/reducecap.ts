// reducecap [--secure] [--cap CAP]... [--CAP_NAME]... [--] CMD...   and   reducecap --show [--pid P]
// CMD runs with a lowered capability bounding set; no process below it can raise it again, not
// through a setuid-root binary nor through file capabilities (reference §1.2, §3.4).

import { UsageError } from "../errors";
import { runWithReducedCaps, showBoundingSet } from "../control/reducecap";
import { runMain } from "./main";
import { writeOut } from "../drivers/output";
import { parseOptions, splitAtCommand } from "./options";

const PROG = "reducecap";

const HELP = `Usage: reducecap [--secure] [--cap CAP]... [--CAP_NAME]... [--] CMD [ARGS...]
       reducecap --show [--pid PID]

Run CMD with the capability bounding set lowered, for it and every process it starts. The
options end at the first word that is not one (or at --). Lowering the bounding set needs
CAP_SETPCAP: an ordinary user has no capability to lower ('chcontext --secure CMD' gives such
a user a box of its own instead).
  --secure      keep only util-vserver's safe set (the guests' default capabilities)
  --cap CAP     remove CAP (CAP_NET_RAW or NET_RAW); --CAP_NET_RAW is the same
  --show        print the bounding set of PID (default: this process) and exit
`;

const VALUE_OPTIONS = new Set(["--cap", "--pid", "--flag"]);

export async function main(argv: string[]): Promise<number> {
  const { own, cmd } = splitAtCommand(argv, VALUE_OPTIONS);
  // util-vserver's --CAP_NAME form: turn it into --cap NAME before parsing.
  const norm: string[] = [];
  for (const a of own) {
    if (/^--CAP_[A-Z_]+$/.test(a)) norm.push("--cap", a.slice(2));
    else norm.push(a);
  }
  const parsed = await parseOptions("reducecap", norm, { secure: { type: "boolean" }, cap: { type: "string", multiple: true }, show: { type: "boolean" }, pid: { type: "string" }, flag: { type: "string", multiple: true }, help: { type: "boolean", short: "h" } }, false);
  const { values: v } = parsed;
  if (v.help) {
    writeOut(HELP);
    return 0;
  }
  if (v.show) {
    writeOut(showBoundingSet(v.pid ?? "self").join(" ") + "\n");
    return 0;
  }
  if (v.pid) throw new UsageError("--pid goes with --show.");
  return runWithReducedCaps({ secure: !!v.secure, drop: v.cap ?? [], argv: cmd });
}

if (import.meta.main) runMain(PROG, main);

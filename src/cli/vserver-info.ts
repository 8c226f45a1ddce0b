// vserver-info [-q] NAME|XID|PID|- TAG [ARG]: facts for scripts (reference §1.2).

import { UsageError } from "../errors";
import { makeEnv } from "../control/env";
import { answerInfo, TAGS } from "../control/context-info";
import { runMain } from "./main";
import { writeOut } from "../drivers/output";

const PROG = "vserver-info";

const HELP = `Usage: vserver-info [-q] NAME|XID|PID|- TAG [FEATURE-NAME]

Tags: ${TAGS.join(" ")}
  CONTEXT   context number of the running guest      RUNNING  exit 0 iff running
  ID        context number, from the config if stopped
  VDIR CFGDIR APPDIR NAME   paths and name           INITPID  host PID of the guest's init
  XID       context of the process PID ('-': this one)
  INITPID_PID  host PID of the init of PID's context    PXID  parent context of PID (always 0)
  XIDTYPE   static, dynamic (49152 on), host or spectator
  NID, TAG  the context number (util-vserver's defaults for both)   CANONIFY  the guest's name
  APIVER, VERIFYCAP, VERIFYPROC and UTS asked the VServer kernel: refused with the reason.
  FEATURE [NAME]   exit 0 iff this host supports NAME; without NAME, list every feature
  SYSINFO   with '-': versions, paths, features and guests of this host, for a bug report
-q: print nothing, answer by exit status only.
`;

export function main(argv: string[]): number {
  if (argv.includes("--help") || argv.includes("-h")) {
    writeOut(HELP);
    return 0;
  }
  const quiet = argv[0] === "-q" || argv[0] === "--quiet";
  const rest = quiet ? argv.slice(1) : argv;
  if (rest[0] === "-l") throw new UsageError("-l is not supported: every answer comes from the config, the run records and the kernel as they are now.");
  const bad = rest.find((a) => a.startsWith("-") && a !== "-");
  if (bad) throw new UsageError(`unknown option '${bad}'; see 'vserver-info --help'.`);
  const [subject, tag, arg, extra] = rest;
  if (!subject || !tag) throw new UsageError("usage: vserver-info [-q] NAME|XID|PID|- TAG.");
  if (extra !== undefined || (arg !== undefined && tag.toUpperCase() !== "FEATURE")) throw new UsageError(`unexpected argument '${extra ?? arg}'.`);
  const env = makeEnv();
  const a = answerInfo(env, subject, tag, arg, () => {
    try {
      return env.runtime().name;
    } catch {
      return undefined;
    }
  });
  if (!quiet && a.lines.length) writeOut(a.lines.join("\n") + "\n");
  return a.ok ? 0 : 1;
}

if (import.meta.main) runMain(PROG, main);

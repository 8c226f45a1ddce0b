// The power commands vreboot and vhalt: util-vserver's names for restarting and stopping guests.
// There they ran inside a guest and asked the host's rebootmgr over a socket; here a guest's own
// reboot and halt reach its init directly (docs/architecture.md), and these are the host's way:
// vreboot is `vserver NAME restart`, vhalt is `vserver NAME stop`.

import { NotRunningError, UsageError } from "../errors";
import { makeEnv } from "../control/env";
import * as plane from "../control/plane";
import { warn } from "./main";
import { writeOut } from "../drivers/output";

export type PowerVerb = "vreboot" | "vhalt";

const HELP: Record<PowerVerb, string> = {
  vreboot: `Usage: vreboot [--silent] GUEST...

Restart each guest, as 'vserver GUEST restart' does: its stop command and kill sequence, then a
new start. A stopped guest is started. Inside a guest, its own 'reboot' restarts it in place.
`,
  vhalt: `Usage: vhalt [--silent] GUEST...

Stop each guest, as 'vserver GUEST stop' does. Inside a guest, its own 'halt' or 'poweroff'
stops it.
`,
};

export async function powerMain(prog: PowerVerb, argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    writeOut(HELP[prog]);
    return 0;
  }
  const silent = argv.includes("--silent") || argv.includes("-s");
  const names = argv.filter((a) => a !== "--silent" && a !== "-s");
  const bad = names.find((a) => a.startsWith("-"));
  if (bad) throw new UsageError(`unknown option '${bad}'; see '${prog} --help'.`);
  if (!names.length) throw new UsageError(`no guest given; usage: ${prog} GUEST...`);
  const env = makeEnv({ quiet: silent, warn: silent ? () => {} : (m) => warn(prog, m) });
  let failed = 0;
  for (const name of names) {
    try {
      if (prog === "vreboot") await plane.restart(env, name, false);
      else await plane.stop(env, name);
      if (!silent) writeOut(`${name}: ${prog === "vreboot" ? "restarted" : "stopped"}\n`);
    } catch (e) {
      if (prog === "vhalt" && e instanceof NotRunningError) {
        env.warn(e.message);
        continue;
      }
      if (names.length === 1) throw e;
      warn(prog, `${name}: ${(e as Error).message}`);
      failed++;
    }
  }
  return failed ? 1 : 0;
}

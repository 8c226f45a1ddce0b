// Signal names and numbers as vkill and chcontext's friends accept them: TERM, SIGTERM, 15.

import { UsageError } from "../errors";
import { signalNameOf } from "../drivers/process";

export function parseSignal(prog: string, raw: string): NodeJS.Signals {
  const s = raw.trim().toUpperCase();
  if (/^\d+$/.test(s)) {
    const name = signalNameOf(Number(s));
    if (!name) throw new UsageError(`'${raw}' is not a signal number.`);
    return name as NodeJS.Signals;
  }
  const name = s.startsWith("SIG") ? s : `SIG${s}`;
  const os = require("node:os") as typeof import("node:os");
  if (!(name in os.constants.signals)) throw new UsageError(`'${raw}' is not a signal name (for example TERM, KILL, HUP).`);
  return name as NodeJS.Signals;
}

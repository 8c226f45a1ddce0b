// Our guest init on the host side: where its binary is, and reading the report of the start
// command it runs (the protocol is pure/guest-init.ts, the program src/native/guest-init.c).

import { readSync } from "node:fs";
import { builtFile } from "./built-files";
import { ToolError } from "../errors";
import { parseStartReport, type StartReport } from "../pure/guest-init";
import { procStartTime } from "./proc-pid";

/** The static binary `make` builds next to the bundled commands (dist/), also when run from src/. */
export function guestInitBinary(): string {
  const p = builtFile("vserver-init");
  if (!p) throw new ToolError("the guest init (dist/vserver-init) is missing; run 'make' in the vserver checkout.");
  return p;
}

/**
 * Wait for the start report on the (non-blocking) read end of the status pipe. It ends with the
 * start command, however long that takes, or with PID 1 (EOF). Undefined: PID 1 died or wrote
 * something else.
 */
export async function awaitStartReport(fd: number, pid: number, pidStart: string): Promise<StartReport | undefined> {
  const buf = Buffer.alloc(64);
  let text = "";
  let delay = 1;
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      // Also end when PID 1 is gone but something in the guest still holds the pipe open.
      if (procStartTime(pid) !== pidStart) return undefined;
      await Bun.sleep(delay);
      delay = Math.min(delay * 2, 50);
      continue;
    }
    if (n === 0) break;
    text += buf.toString("latin1", 0, n);
    if (text.includes("\n") || text.length > 64) break;
  }
  return parseStartReport(text);
}

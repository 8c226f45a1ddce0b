// What every command shares: turning errors into one plain line on stderr and an exit status.

import { VsError } from "../errors";
import { writeErr } from "../drivers/output";

/** Says what went wrong in one line on stderr; returns the exit status it calls for. */
function report(prog: string, e: unknown): number {
  // `vserver --debug`: where it happened, for a bug report.
  if (process.env.VSERVER_DEBUG && e instanceof Error && e.stack) writeErr(`${e.stack}\n`);
  if (e instanceof VsError) {
    writeErr(`${prog}: ${e.message}\n`);
    return e.exitCode;
  }
  const err = e as NodeJS.ErrnoException;
  const msg = err?.code && err?.path ? `${err.path}: ${err.message}` : err?.message ?? String(e);
  writeErr(`${prog}: ${msg}\n`);
  return 1;
}

export function fail(prog: string, e: unknown): never {
  process.exit(report(prog, e));
}

type Main = (argv: string[]) => Promise<number | void> | number | void;

/** A command run to its status without ending the process (a service worker's reused serving). */
export async function runCommand(prog: string, main: Main, args: string[]): Promise<number> {
  try {
    return (await main(args)) ?? 0;
  } catch (e) {
    return report(prog, e);
  }
}

export async function runMain(prog: string, main: Main): Promise<void> {
  process.exit(await runCommand(prog, main, process.argv.slice(2)));
}

export function warn(prog: string, message: string): void {
  writeErr(`${prog}: warning: ${message}\n`);
}

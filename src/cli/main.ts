// What every command shares: turning errors into one plain line on stderr and an exit status.

import { VsError } from "../errors";
import { writeErr } from "../drivers/output";

export function fail(prog: string, e: unknown): never {
  // `vserver --debug`: where it happened, for a bug report.
  if (process.env.VSERVER_DEBUG && e instanceof Error && e.stack) writeErr(`${e.stack}\n`);
  if (e instanceof VsError) {
    writeErr(`${prog}: ${e.message}\n`);
    process.exit(e.exitCode);
  }
  const err = e as NodeJS.ErrnoException;
  const msg = err?.code && err?.path ? `${err.path}: ${err.message}` : err?.message ?? String(e);
  writeErr(`${prog}: ${msg}\n`);
  process.exit(1);
}

export async function runMain(prog: string, main: (argv: string[]) => Promise<number | void> | number | void): Promise<void> {
  try {
    const code = await main(process.argv.slice(2));
    process.exit(code ?? 0);
  } catch (e) {
    fail(prog, e);
  }
}

export function warn(prog: string, message: string): void {
  writeErr(`${prog}: warning: ${message}\n`);
}

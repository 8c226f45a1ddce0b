// The spectator context (util-vserver's context 1): a command that sees every process on the
// host (it stays in the host's PID namespace) but can signal none of them. It runs as a uid
// that owns no process, with an empty bounding set, no capabilities and no_new_privs, so
// neither kill(2) nor a setuid binary gives it any power over another process.

import { runInteractive } from "../drivers/process";

/** A uid no account uses (below the 32-bit "nobody" conventions, far above any real range). */
export const SPECTATOR_UID = 2147483646;

export function spectatorArgv(cmd: string[]): string[] {
  return [
    "setpriv", `--reuid=${SPECTATOR_UID}`, `--regid=${SPECTATOR_UID}`, "--clear-groups",
    "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs", "--", ...cmd,
  ];
}

export function runSpectator(cmd: string[]): Promise<number> {
  return runInteractive(spectatorArgv(cmd));
}

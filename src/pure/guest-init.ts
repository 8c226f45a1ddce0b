// The protocol of our guest init (src/native/guest-init.c), PID 1 of the guests whose init style
// runs scripts: its argv, the start report it writes on fd 3, and the process name it takes when
// the stop command has ended. The guest can forge all of it; the host only learns from it what
// the guest says about itself.

/** Where the init appears in the guest: on the runtime's /dev tmpfs, so nothing is written into the guest root. */
export const GUEST_INIT_PATH = "/dev/.vserver-init";

/** /proc/PID/comm of the init once the stop command has ended (at most 15 bytes). */
export const STOPPED_COMM = ".vserver-down";

/** The signal `vserver stop` sends (from outside the guest) to run the stop command: SIGPWR. */
export const STOP_SIGNAL = 30;

/** At most this many candidates per command (the C side's limit). */
const MAX_CANDIDATES = 8;

/**
 * PID 1's argv: each candidate command as "start|stop|run N WORD...", the first that exists runs.
 * `run` (a rescue start's command) is started beside the start command and not waited for.
 */
export function guestInitArgv(start: string[][], stop: string[][], run: string[][] = []): string[] {
  const group = (kind: string, cands: string[][]) => cands.slice(0, MAX_CANDIDATES).filter((c) => c.length).flatMap((c) => [kind, String(c.length), ...c]);
  return [GUEST_INIT_PATH, ...group("start", start), ...group("stop", stop), ...group("run", run)];
}

/**
 * PID 1's argv for a guest on the host's stack whose abstract unix sockets are scoped: the init
 * confines itself (Landlock) before it starts anything.
 */
export function scopedInitArgv(argv: string[]): string[] {
  if (argv[0] !== GUEST_INIT_PATH) throw new Error("scopedInitArgv: PID 1 is not our guest init");
  return [GUEST_INIT_PATH, "scope-abstract-unix", ...argv.slice(1)];
}

/** A command run in such a guest from outside: through the init's binary, which confines it, then executes it. */
export function scopedExecArgv(argv: string[]): string[] {
  return [GUEST_INIT_PATH, "exec-scoped", ...argv];
}

export interface StartReport {
  /** Index of the candidate that ran; -1 when none of them exists; FORK_FAILED when the init could not fork. */
  index: number;
  /** Its exit status (128 + signal when killed; 126 when it exists but could not be run). */
  status: number;
}

/** The report's index when the init's fork failed; its status is then the errno (EAGAIN: the guest's process limit). */
export const FORK_FAILED = -3;

/** The line "start IDX STATUS"; undefined for anything else (the guest may write what it likes). */
export function parseStartReport(text: string): StartReport | undefined {
  const m = /^start (-?\d{1,2}) (\d{1,3})\n/.exec(text);
  if (!m) return undefined;
  const index = Number(m[1]);
  const status = Number(m[2]);
  if (index < FORK_FAILED || index >= MAX_CANDIDATES || status > 255) return undefined;
  return { index: index === FORK_FAILED ? FORK_FAILED : Math.max(index, -1), status };
}

// The event journal: one JSON line per context operation, like the old vserver() call's traced
// events. Appending is cheap and never makes an operation fail; the file rotates by size
// (drivers/log-file.ts).

import { appendLog, JOURNAL_MAX_BYTES } from "./log-file";

export interface JournalEvent {
  op: string;
  guest?: string;
  context?: number;
  ok: boolean;
  error?: string;
  [k: string]: unknown;
}

/** Who asked for the operations this process records: the user and process that ran the command. */
export interface Caller {
  uid: number;
  /** Absent for an API request: a Unix socket's peer process is not known to the HTTP server. */
  pid?: number;
  /** "api" for the REST API ("api-tcp" remote), "guest", "service"; absent for a command. */
  via?: string;
  /** A remote caller: the token's name, or "client certificate". */
  who?: string;
}

// A direct command is its own caller; the host service's worker and API set theirs.
let caller: Caller | undefined;

export function setCaller(c: Caller): void {
  caller = c;
}

/** The process that asked for this command, when it is not this one (the service's client). */
export function callerPid(): number | undefined {
  return caller?.pid;
}

export function record(logDir: string, ev: JournalEvent): void {
  const who = caller ?? { uid: process.getuid?.() ?? 0, pid: process.pid };
  appendLog(`${logDir}/events.log`, JSON.stringify({ time: new Date().toISOString(), pid: process.pid, caller: who, ...ev }) + "\n", JOURNAL_MAX_BYTES);
}

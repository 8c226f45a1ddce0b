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

export function record(logDir: string, ev: JournalEvent): void {
  appendLog(`${logDir}/events.log`, JSON.stringify({ time: new Date().toISOString(), pid: process.pid, ...ev }) + "\n", JOURNAL_MAX_BYTES);
}

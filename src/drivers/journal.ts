// The event journal: one JSON line per context operation, like the old vserver() call's traced
// events. Appending is cheap and never makes an operation fail.

import { appendFileSync, mkdirSync } from "node:fs";

export interface JournalEvent {
  op: string;
  guest?: string;
  context?: number;
  ok: boolean;
  error?: string;
  [k: string]: unknown;
}

export function record(logDir: string, ev: JournalEvent): void {
  try {
    mkdirSync(logDir, { recursive: true, mode: 0o750 });
    appendFileSync(`${logDir}/events.log`, JSON.stringify({ time: new Date().toISOString(), pid: process.pid, ...ev }) + "\n");
  } catch {}
}

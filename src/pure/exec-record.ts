// The exec record: what the native front-end (src/native) needs to run a command in a running
// guest without starting the JavaScript runtime. `start` writes it next to the run record from
// the policy it computed; the native code reads only this file and never parses a guest's config,
// so there is one source of truth for policy. One "key value" per line, no quoting: a value that
// holds a newline cannot be written, and then the guest simply has no record (the slow path works).

import { keyValueText } from "./key-value-text";

export const EXEC_RECORD_VERSION = 1;

export interface ExecRecord {
  /** The guest's context number (the views' name for it). */
  context: number;
  /** Host PID of the guest's PID 1 and its /proc start time, to tell a reused PID apart. */
  pid: number;
  pidStart: string;
  /** The guest's `private` flag: exec and enter are refused (the front-end leaves that to the slow path). */
  private: boolean;
  /** Added to the caller's nice level for the runtime and so for the command. */
  nice: number;
  /** The mount namespace to enter before running the runtime (the hidden-cgroup2 view), if any. */
  view?: string;
  /** The runtime's exec command up to and including the container id; the user's command follows. */
  argv: string[];
  /** PID 1 is our guest init (src/native/guest-init.c): the native stop may ask it to stop the guest. */
  guestInit?: boolean;
}

export function formatExecRecord(r: ExecRecord): string | undefined {
  const lines = [
    "# written by 'vserver start' for the native exec path; removed at stop",
    `version ${EXEC_RECORD_VERSION}`,
    `context ${r.context}`,
    `pid ${r.pid}`,
    `pid-start ${r.pidStart}`,
    `private ${r.private ? 1 : 0}`,
    `nice ${r.nice}`,
    ...(r.view ? [`view ${r.view}`] : []),
    ...(r.guestInit ? ["guest-init 1"] : []),
    ...r.argv.map((a) => `arg ${a}`),
  ];
  return keyValueText(lines);
}

export function parseExecRecord(text: string): ExecRecord | undefined {
  const r: Partial<ExecRecord> & { argv: string[] } = { argv: [] };
  let version = 0;
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const sp = line.indexOf(" ");
    const key = sp < 0 ? line : line.slice(0, sp);
    const value = sp < 0 ? "" : line.slice(sp + 1);
    if (key === "version") version = Number(value);
    else if (key === "context") r.context = Number(value);
    else if (key === "pid") r.pid = Number(value);
    else if (key === "pid-start") r.pidStart = value;
    else if (key === "private") r.private = value === "1";
    else if (key === "nice") r.nice = Number(value);
    else if (key === "view") r.view = value;
    else if (key === "arg") r.argv.push(value);
    else if (key === "guest-init") r.guestInit = value === "1";
  }
  if (version !== EXEC_RECORD_VERSION || !Number.isInteger(r.context) || !Number.isInteger(r.pid) || !r.pidStart || !r.argv.length) return undefined;
  return { context: r.context!, pid: r.pid!, pidStart: r.pidStart, private: !!r.private, nice: r.nice ?? 0, view: r.view, argv: r.argv, ...(r.guestInit ? { guestInit: true } : {}) };
}

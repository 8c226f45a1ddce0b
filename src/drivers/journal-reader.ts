// Reading the event journal (drivers/journal.ts) back: its last events, and every event from
// now on as other processes append them. The journal is the one record every process writes
// (commands run directly or by the host service, the API's operation processes), so following
// it sees every operation whoever asked for it. Rotation (events.log -> events.log.1) is
// followed: the rest of the old file is read before the new one.

import { closeSync, existsSync, openSync, readSync, fstatSync, statSync, watch, type FSWatcher } from "node:fs";
import type { JournalEvent } from "./journal";

export type JournalEntry = JournalEvent & { time: string; pid?: number; caller?: { uid: number; pid?: number; via?: string } };

function parseLines(text: string): JournalEntry[] {
  const out: JournalEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as JournalEntry);
    } catch {} // a line cut by a full disk is lost, not fatal
  }
  return out;
}

function readFrom(file: string, offset: number): { text: string; end: number; ino: number } | undefined {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    const chunks: Buffer[] = [];
    let pos = offset > st.size ? 0 : offset;
    for (;;) {
      const b = Buffer.alloc(65536);
      const n = readSync(fd, b, 0, b.length, pos);
      if (n <= 0) break;
      chunks.push(b.subarray(0, n));
      pos += n;
    }
    // Only whole lines: a writer may be in the middle of one.
    const all = Buffer.concat(chunks);
    const cut = all.lastIndexOf(0x0a) + 1;
    return { text: all.subarray(0, cut).toString(), end: (offset > st.size ? 0 : offset) + cut, ino: st.ino };
  } finally {
    closeSync(fd);
  }
}

/** Where a reader of the journal is: the file's inode and the offset after the last whole line. */
export interface JournalPosition {
  ino: number;
  offset: number;
}

/** The events in the journal now (both generations), oldest first, and where they end. */
export function readJournalAt(logDir: string): { entries: JournalEntry[]; position: JournalPosition } {
  const file = `${logDir}/events.log`;
  const cur = readFrom(file, 0);
  return {
    entries: [...parseLines(readFrom(`${file}.1`, 0)?.text ?? ""), ...parseLines(cur?.text ?? "")],
    position: cur ? { ino: cur.ino, offset: cur.end } : { ino: -1, offset: 0 },
  };
}

export function readJournal(logDir: string): JournalEntry[] {
  return readJournalAt(logDir).entries;
}

export interface JournalFollower {
  /** Read what was appended up to now, at once (without waiting for the next wake-up). */
  catchUp(): void;
  stop(): void;
}

/** Call `onEvents` with every event appended from now on (or from a position readJournalAt gave). */
export function followJournal(logDir: string, onEvents: (evs: JournalEntry[]) => void, opts: { from?: JournalPosition; pollMs?: number } = {}): JournalFollower {
  const file = `${logDir}/events.log`;
  let ino = -1;
  let offset = 0;
  if (opts.from) ({ ino, offset } = opts.from);
  else {
    try {
      const st = statSync(file);
      ino = st.ino;
      offset = st.size;
    } catch {}
  }
  // inotify on the directory wakes us at once; the poll covers what it misses, and starts the
  // watch once the directory exists (a new installation's first event makes it).
  let watcher: FSWatcher | undefined;
  const watchDir = () => {
    try {
      if (!watcher && existsSync(logDir)) watcher = watch(logDir, () => check());
    } catch {}
  };
  // The generation before the current one, while it is events.log.1: a writer that opened the
  // journal just before it was rotated appends its line there afterwards, so it is read until the
  // next rotation replaces it.
  let older: { ino: number; offset: number } | undefined;
  const readOlder = () => {
    if (!older) return;
    const r = readFrom(`${file}.1`, older.offset);
    if (!r || r.ino !== older.ino) {
      older = undefined;
      return;
    }
    older.offset = r.end;
    if (r.text) onEvents(parseLines(r.text));
  };
  const check = () => {
    watchDir();
    let st;
    try {
      st = statSync(file);
    } catch {
      return;
    }
    if (st.ino !== ino) {
      // Rotated: the rest of the old generation first.
      older = ino !== -1 ? { ino, offset } : undefined;
      ino = st.ino;
      offset = 0;
    }
    readOlder();
    if (st.size === offset) return;
    const r = readFrom(file, offset);
    if (!r || r.ino !== ino) return;
    offset = r.end;
    if (r.text) onEvents(parseLines(r.text));
  };
  const timer = setInterval(check, opts.pollMs ?? 500);
  check();
  return {
    catchUp: check,
    stop() {
      clearInterval(timer);
      watcher?.close();
    },
  };
}

/** Whether an event matches filters of guest names and operations (empty: any). */
export function eventMatches(ev: JournalEntry, guests: string[], ops: string[]): boolean {
  return (!guests.length || (ev.guest !== undefined && guests.includes(ev.guest))) && (!ops.length || ops.includes(ev.op));
}

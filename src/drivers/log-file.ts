// The append-only logs: each guest's log and the event journal. They grow on every start and stop,
// so each is rotated by size: past its limit the file becomes FILE.1 (the one older generation
// kept, replacing the previous .1) and a new file starts. A log line is never worth an operation:
// a full disk loses the line, not the start or stop that wrote it. A line is appended whole or
// not at all: on a full disk the part that fitted in the file's last block is cut off again, so
// a reader (a JSON parser of the journal) never meets half a line.

import { closeSync, fstatSync, ftruncateSync, lstatSync, mkdirSync, openSync, renameSync, statSync, symlinkSync, unlinkSync, writeSync } from "node:fs";

/** A guest's log (NAME.log) rotates past 1 MiB; docs/architecture.md. */
export const GUEST_LOG_MAX_BYTES = 1 << 20;
/** The event journal (events.log) rotates past 4 MiB. */
export const JOURNAL_MAX_BYTES = 4 << 20;

/** A rotation lock older than this was left by a writer killed in the middle: it is removed. */
const STALE_ROTATION_MS = 5000;

/**
 * Move FILE to FILE.1 when it has grown past `max` bytes. Many processes append to the journal:
 * two that saw it full at once would both rename, the second moving the generation the first
 * had just started over the full one, and both would be lost to a reader. So only the writer
 * that makes FILE.rotating (a symbolic link: made in one step or not at all) renames, after
 * looking again; the others append to the file as it is and leave the rotation to it.
 */
export function rotateBySize(file: string, max: number): void {
  try {
    if (statSync(file).size <= max) return;
  } catch {
    return;
  }
  const lock = `${file}.rotating`;
  try {
    symlinkSync(String(process.pid), lock);
  } catch {
    try {
      if (Date.now() - lstatSync(lock).mtimeMs > STALE_ROTATION_MS) unlinkSync(lock);
    } catch {}
    return;
  }
  try {
    if (statSync(file).size > max) renameSync(file, `${file}.1`);
  } catch {
  } finally {
    try {
      unlinkSync(lock);
    } catch {}
  }
}

/** Append `text` whole, or leave the file as it was. */
function appendWhole(file: string, text: string): void {
  const fd = openSync(file, "a", 0o640);
  try {
    const before = fstatSync(fd).size;
    const buf = Buffer.from(text);
    try {
      for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
    } catch (e) {
      try { ftruncateSync(fd, before); } catch {}
      throw e;
    }
  } finally {
    closeSync(fd);
  }
}

/** Append a line (or lines) to a log, rotating it first; failures are swallowed. */
export function appendLog(file: string, text: string, max = GUEST_LOG_MAX_BYTES): void {
  try {
    rotateBySize(file, max);
    appendWhole(file, text);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") return;
    try {
      mkdirSync(file.slice(0, file.lastIndexOf("/")), { recursive: true, mode: 0o750 });
      appendWhole(file, text);
    } catch {}
  }
}

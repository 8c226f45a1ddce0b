// Per-guest (and global) locks that name their holder. A lock is a symbolic link whose target is
// "PID STARTTIME": symlink(2) makes it and writes its owner in one atomic step, so no moment exists
// at which the lock is there but its owner is not (a plain file made with O_EXCL and then written
// had one: a kill -9 or a full disk between the two left an empty file that blocked for ever).
// A short link target lives in the inode on tmpfs and ext4, so the lock needs no free block and
// stop works on a full disk. A holder that died (kill -9 in the middle of `start`) is detected by
// its PID and start time, so its lock never blocks the next command. Bun has no flock(2).
//
// Plain files with that text (the locks of earlier versions) are read the same way, and one that
// is empty or garbled for longer than STALE_UNREADABLE_MS is judged stale (its maker was killed
// between open and write); docs/architecture.md has the rules.

import { lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, symlinkSync, unlinkSync } from "node:fs";
import { BusyError, NoSpaceError } from "../errors";
import { faultPoint } from "./fault";
import { procStartTime } from "./proc-pid";

export interface Lock {
  release(): void;
}

/** An owner-less lock file younger than this may still be being written by the native side. */
export const STALE_UNREADABLE_MS = 5000;

const OWNER_RE = /^(\d+) (\d+)$/;

/** The owner text of a lock (link target, or a plain file's content); undefined when it is gone. */
function ownerOf(file: string): string | undefined {
  try {
    return readlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EINVAL") return undefined;
  }
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}

function holderAlive(owner: string): boolean {
  const m = OWNER_RE.exec(owner);
  return !!m && procStartTime(Number(m[1])) === m[2];
}

function ageMs(file: string): number {
  try {
    return Date.now() - lstatSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function tryTake(file: string, me: string): boolean {
  try {
    faultPoint("lock.take", file);
    symlinkSync(me, file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOSPC" || code === "EDQUOT") throw new NoSpaceError(`cannot take the lock ${file}: no space left on its file system.`, { file });
    if (code !== "EEXIST") throw e;
  }
  const owner = ownerOf(file);
  if (owner === undefined) return false; // released meanwhile; the caller retries
  if (holderAlive(owner)) return false;
  if (!OWNER_RE.test(owner) && ageMs(file) < STALE_UNREADABLE_MS) return false;
  // Stale: move it aside under a unique name so that only one contender removes it.
  const aside = `${file}.stale.${process.pid}`;
  try {
    renameSync(file, aside);
    const moved = ownerOf(aside);
    unlinkSync(aside);
    if (moved !== owner) return false; // someone else's fresh lock: theirs is gone now, retry
  } catch {}
  return false;
}

function releaseIfMine(file: string, me: string): void {
  try {
    if (ownerOf(file) === me) unlinkSync(file);
  } catch {}
}

/**
 * Take the lock, waiting up to `waitSeconds` for another command to finish with it.
 * `what` names the locked thing in the BusyError message.
 */
export async function acquireLock(dir: string, name: string, what: string, waitSeconds = 120): Promise<Lock> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = `${dir}/${name}.lock`;
  const me = `${process.pid} ${procStartTime(process.pid)}`;
  const deadline = Date.now() + waitSeconds * 1000;
  let delay = 5;
  while (!tryTake(file, me)) {
    if (Date.now() >= deadline) {
      const holder = OWNER_RE.exec(ownerOf(file) ?? "")?.[1];
      throw new BusyError(`${what} is busy: another vserver command${holder ? ` (pid ${holder})` : ""} is working on it (lock ${file}).`, { file });
    }
    await Bun.sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      releaseIfMine(file, me);
    },
  };
}

/** Whether a live command holds the lock now (a read-only look: nothing is taken or cleared). */
export function lockHeld(dir: string, name: string): boolean {
  const owner = ownerOf(`${dir}/${name}.lock`);
  return owner !== undefined && holderAlive(owner);
}

/** The live command holding the lock, by PID and start time (vserverd --stop signals it). */
export function lockHolder(dir: string, name: string): { pid: number; start: string } | undefined {
  const owner = ownerOf(`${dir}/${name}.lock`);
  if (owner === undefined || !holderAlive(owner)) return undefined;
  const [pid, start] = owner.split(" ");
  return { pid: Number(pid), start: start! };
}

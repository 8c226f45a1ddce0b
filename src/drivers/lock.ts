// Per-guest (and global) locks as files created with O_EXCL that name their holder. A holder that
// died (kill -9 in the middle of `start`) is detected by its PID and start time, so its lock never
// blocks the next command. Bun has no flock(2), and a lock that outlives its holder is the failure
// the foundation issue forbids.

import { closeSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { BusyError } from "../errors";
import { procStartTime } from "./proc-pid";

export interface Lock {
  release(): void;
}

function holderAlive(content: string): boolean {
  const [pidS, start] = content.trim().split(" ");
  const pid = Number(pidS);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  return procStartTime(pid) === start;
}

function tryTake(file: string, me: string): boolean {
  try {
    const fd = openSync(file, "wx", 0o600);
    writeSync(fd, me);
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  let content = "";
  try {
    content = readFileSync(file, "utf8");
  } catch {
    return false; // released meanwhile; the caller retries
  }
  if (content === "" || holderAlive(content)) return false;
  // Stale: move it aside under a unique name so that only one contender removes it.
  const aside = `${file}.stale.${process.pid}`;
  try {
    renameSync(file, aside);
    const moved = readFileSync(aside, "utf8");
    unlinkSync(aside);
    if (moved !== content) return false; // someone else's fresh lock: theirs is gone now, retry
  } catch {}
  return false;
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
      let holder = "";
      try { holder = readFileSync(file, "utf8").split(" ")[0] ?? ""; } catch {}
      throw new BusyError(`${what} is busy: another vserver command${holder ? ` (pid ${holder})` : ""} is working on it.`);
    }
    await Bun.sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      try {
        if (readFileSync(file, "utf8") === me) unlinkSync(file);
      } catch {}
    },
  };
}

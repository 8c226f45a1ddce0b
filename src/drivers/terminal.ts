// Is a file descriptor a terminal? node:tty's isatty costs ~25 ms of start-up under Bun (it
// brings the stream machinery with it), paid by every command that asks. A terminal is a
// character device of the tty majors (4 and 5: virtual consoles, /dev/tty and /dev/console;
// 136-143: pseudo-terminals; 204: serial consoles on some boards); fstat tells it for free.

import { fstatSync } from "node:fs";

const TTY_MAJORS = new Set([4, 5, 136, 137, 138, 139, 140, 141, 142, 143, 204]);

export function isTerminal(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    if (!st.isCharacterDevice()) return false;
    const major = Number((BigInt(st.rdev) >> 8n) & 0xfffn);
    return TTY_MAJORS.has(major);
  } catch {
    return false;
  }
}

/** /dev/ptmx, and every devpts instance's ptmx: opening it makes a new pty and gives its master. */
const PTMX_RDEV = (5n << 8n) | 2n;

/**
 * Is fd the master of a pty? Only a descriptor opened from a ptmx node is: what a guest hands back
 * for its fresh terminal is checked with this before the host copies to or sizes it.
 */
export function isPtyMaster(fd: number): boolean {
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.isCharacterDevice() && st.rdev === PTMX_RDEV;
  } catch {
    return false;
  }
}

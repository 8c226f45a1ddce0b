// Which of our standard fds may be handed to a process inside a guest. A pipe or a socket gives
// the guest nothing beyond the stream, and /dev/null nothing at all. Anything else does: a
// regular file can be reopened through /proc/self/fd with new rights, chowned or truncated, and a
// terminal can be typed into (TIOCSTI). Those are relayed through a pipe by us instead.

import { fstatSync } from "node:fs";

export function passableToGuest(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    if (st.isFIFO() || st.isSocket()) return true;
    if (st.isCharacterDevice()) return BigInt(st.rdev) === 0x103n; // 1:3, /dev/null
    return false;
  } catch {
    return false; // closed: let the child get /dev/null
  }
}

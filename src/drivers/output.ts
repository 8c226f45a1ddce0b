// Writing to our stdout and stderr. Under Bun, process.stdout and process.stderr cost ~27 ms of
// start-up (they build stream objects on first use), more than a whole `crun exec`; write(2) on
// fd 1 or 2 costs nothing. Partial writes and a non-blocking descriptor (shared with a parent
// that set O_NONBLOCK) are handled; a reader that went away (`vps | head`) ends the output quietly.

import { writeSync } from "node:fs";

const pause = new Int32Array(new SharedArrayBuffer(4));

function writeAll(fd: number, s: string): void {
  const buf = Buffer.from(s);
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") {
        Atomics.wait(pause, 0, 0, 2);
        continue;
      }
      if (code === "EPIPE") return;
      throw e;
    }
  }
}

export function writeOut(s: string): void {
  writeAll(1, s);
}

export function writeErr(s: string): void {
  writeAll(2, s);
}

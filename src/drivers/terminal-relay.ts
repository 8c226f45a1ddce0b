// The admin's terminal joined to a pty that a guest made: for `enter`, and exec at a terminal,
// through the guest's init (control/exec.ts). The guest's side opens a fresh pty inside the guest
// and hands us its master; the admin's terminal itself never goes in, so nothing in the guest can
// type into it (TIOCSTI) or keep it. For the session our terminal is raw (the guest's pty does the
// line editing and makes ^C a signal there), its window size follows ours, and its mode is
// restored on every way out that leaves us running code: the command's end, a signal that ended
// it, the guest's death.
//
// The master came from the guest and is untrusted: isPtyMaster checked it before it gets here,
// and the only ioctl on it is the window size. The copying is done by two `cat` processes, for
// the reasons drivers/stdio-relay.ts gives (no thread of koffi's small pool held, no duplicated
// descriptor left open); the one reading our terminal is killed when the command ends, since a
// read pending on a terminal would otherwise keep it, and so the terminal's input, forever.

import type { Subprocess } from "bun";
import { closeSync } from "node:fs";
import { ioctlBuffer, libc } from "./libc";
import { callerPid } from "./journal";
import { inForeground } from "./proc-pid";
import { isOpen } from "./stdio-relay";
import { isTerminal } from "./terminal";

const TIOCGWINSZ = 0x5413;
const TIOCSWINSZ = 0x5414;
const TCSANOW = 0;
/** glibc's struct termios is 60 bytes on every Linux architecture we build for. */
const TERMIOS_BYTES = 64;
/** After the command's end, how long its last output may take to reach our stdout. */
const DRAIN_MS = 500;

export interface WindowSize {
  rows: number;
  cols: number;
}

/** The window size of the first of our standard descriptors that is a terminal (0×0: none is). */
export function ourWindowSize(): WindowSize {
  for (const fd of [0, 1, 2]) {
    if (!isTerminal(fd)) continue;
    const ws = Buffer.alloc(8);
    if (ioctlBuffer(fd, TIOCGWINSZ, ws) === 0) return { rows: ws.readUInt16LE(0), cols: ws.readUInt16LE(2) };
  }
  return { rows: 0, cols: 0 };
}

function setWindowSize(fd: number, size: WindowSize): void {
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(size.rows, 0);
  ws.writeUInt16LE(size.cols, 2);
  ioctlBuffer(fd, TIOCSWINSZ, ws);
}

type TermiosFn = (...a: unknown[]) => number;
let termios: { get: TermiosFn; set: TermiosFn; makeRaw: TermiosFn } | undefined;
function tc() {
  const l = libc();
  termios ??= {
    get: l.func("int tcgetattr(int, void *)") as TermiosFn,
    set: l.func("int tcsetattr(int, int, void *)") as TermiosFn,
    makeRaw: l.func("void cfmakeraw(void *)") as TermiosFn,
  };
  return termios;
}

export class TerminalRelay {
  private saved?: Buffer;
  private input?: Subprocess;
  private output?: Subprocess;
  private master?: number;
  private readonly onResize = () => {
    if (this.master !== undefined) setWindowSize(this.master, ourWindowSize());
  };
  private readonly onExit = () => this.restoreMode();

  /**
   * Copy between our stdio and `master` (ours to close from now on), with our terminal raw. Our
   * window size is taken again here: it may have changed since the request was sent.
   */
  start(master: number): void {
    this.master = master;
    process.on("SIGWINCH", this.onResize);
    this.onResize();
    // The caller is us, or the host service's client: a background job (`vserver NAME enter &`)
    // leaves the terminal's mode and input to the foreground, as any job would; it gets only the
    // command's output.
    const foreground = inForeground(callerPid() ?? "self");
    if (foreground && isTerminal(0)) {
      const t = tc();
      const mode = Buffer.alloc(TERMIOS_BYTES);
      if (t.get(0, mode) === 0) {
        // Restored by finish(), or by our exit if something throws past it.
        this.saved = mode;
        process.on("exit", this.onExit);
        const raw = Buffer.from(mode);
        t.makeRaw(raw);
        t.set(0, TCSANOW, raw);
      }
    }
    const own = (fd: number) => (isOpen(fd) ? fd : "ignore");
    if (foreground) this.input = Bun.spawn(["cat"], { stdin: own(0), stdout: master, stderr: "ignore" });
    this.output = Bun.spawn(["cat"], { stdin: master, stdout: own(1), stderr: "ignore" });
  }

  /**
   * The command has ended: let its last output through (the output copier ends when the guest's
   * side of the pty is closed; a process of the command's that keeps it gets DRAIN_MS), then stop
   * copying, close the master and give the terminal its mode back.
   */
  async finish(): Promise<void> {
    const output = this.output;
    if (output) await Promise.race([output.exited, Bun.sleep(DRAIN_MS)]);
    this.close();
  }

  /** Stop at once (also when the command never started). */
  close(): void {
    for (const p of [this.input, this.output]) if (p && p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    this.input = this.output = undefined;
    process.off("SIGWINCH", this.onResize);
    if (this.master !== undefined) {
      try {
        closeSync(this.master);
      } catch {}
      this.master = undefined;
    }
    this.restoreMode();
  }

  private restoreMode(): void {
    if (!this.saved) return;
    tc().set(0, TCSANOW, this.saved);
    this.saved = undefined;
    process.off("exit", this.onExit);
  }
}

// The host's end of the guest init's exec service (protocol: pure/guest-exec-protocol.ts; the
// guest's end: native/guest-exec.c). One connection per command: the request and the command's
// three descriptors go in, "pid", "exit" (or "refused") come back, and the signals we get are
// passed on as "signal N" lines while the command runs. A terminal request sends no descriptors and
// gets the master of the guest's fresh pty with its "pid" line, which is checked before use.

import { chmodSync, closeSync, rmSync, writeSync } from "node:fs";
import { encodeExecRequest, EXEC_SIGNAL, parseExecReply, type GuestExecRequest } from "../pure/guest-exec-protocol";
import { signalNumber } from "./process";
import { isPtyMaster } from "./terminal";
import { connectUnix, listenUnix, receiveWithFds, sendWithFds, whenReadable } from "./unix-socket";

/** How long the guest's init may take to start the command before exec uses the runtime instead. */
const START_TIMEOUT_MS = 10_000;

/** The signals a caller (or its terminal) sends to an exec, which belong to the command. */
const PASSED_SIGNALS = ["SIGINT", "SIGQUIT", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2"] as const;

export type GuestExecOutcome =
  | { ran: true; status: number }
  /** Nothing ran: no socket, no answer, or the guest cannot give the command its policy. */
  | { ran: false; why: string };

/**
 * Lines from the connection, bounded: a guest that sends endless text gets nowhere. Descriptors
 * that come along are kept (at most one per read; more are dropped by the kernel) until taken.
 */
class LineReader {
  private pending = "";
  private fds: number[] = [];
  constructor(private fd: number) {}

  /** The descriptors received so far, now the caller's to close. */
  takeFds(): number[] {
    const fds = this.fds;
    this.fds = [];
    return fds;
  }

  closeFds(): void {
    for (const fd of this.takeFds()) closeQuietly(fd);
  }

  /** The next line, or undefined on end of file or timeout. */
  async next(timeoutMs: number): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const nl = this.pending.indexOf("\n");
      if (nl >= 0) {
        const line = this.pending.slice(0, nl);
        this.pending = this.pending.slice(nl + 1);
        return line;
      }
      const left = timeoutMs < 0 ? -1 : deadline - Date.now();
      if (timeoutMs >= 0 && left <= 0) return undefined;
      if (!(await whenReadable(this.fd, left))) return undefined;
      let got: { data: Buffer; fds: number[] };
      try {
        // Readable, so this does not block.
        got = receiveWithFds(this.fd, 512, 1);
      } catch {
        return undefined;
      }
      this.fds.push(...got.fds);
      if (got.data.length === 0) return undefined;
      this.pending += got.data.toString("utf8");
      if (this.pending.length > 4096) return undefined;
    }
  }
}

/**
 * The listening socket for a guest's init, at `path` (a leftover of an earlier start is
 * replaced). Root's alone: whoever can connect can run commands in the guest.
 */
export function listenExecSocket(path: string): number {
  rmSync(path, { force: true });
  const fd = listenUnix(path, 64);
  chmodSync(path, 0o600);
  return fd;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {}
}

/**
 * `stdio`: the command's three descriptors; none for a terminal request (`req.terminal`).
 * `onStarted`: called once the guest's side has started the command (its "pid" line), with the
 * pty's master for a terminal request (the callee's to close).
 */
export async function execThroughInit(socketPath: string, req: GuestExecRequest, stdio: number[], onStarted?: (master?: number) => void): Promise<GuestExecOutcome> {
  if ((req.terminal ? 0 : 3) !== stdio.length) throw new Error("internal: a terminal request takes no descriptors, any other three");
  const fd = connectUnix(socketPath);
  if (fd === undefined) return { ran: false, why: "the guest's init does not listen" };
  // From the moment the request is sent: a signal that comes before "pid" waits in the socket
  // until the guest's side has started the command and reads it.
  let signalled: number | undefined;
  const pass = (name: string) => () => {
    signalled = signalNumber(name);
    try {
      writeSync(fd, `${EXEC_SIGNAL} ${signalled}\n`);
    } catch {}
  };
  const handlers = PASSED_SIGNALS.map((s) => [s, pass(s)] as const);
  const lines = new LineReader(fd);
  for (const [s, h] of handlers) process.on(s, h);
  try {
    try {
      sendWithFds(fd, encodeExecRequest(req), stdio);
    } catch {
      // The init closed the connection before taking the request (it could not fork a handler):
      // nothing ran.
      if (signalled !== undefined) return { ran: true, status: 128 + signalled };
      return { ran: false, why: "the guest's init dropped the request" };
    }
    const first = await lines.next(START_TIMEOUT_MS);
    const reply = first === undefined ? undefined : parseExecReply(first);
    if (reply?.kind !== "pid") {
      // The caller asked to end a command that never started: it ends as if it had.
      if (signalled !== undefined) return { ran: true, status: 128 + signalled };
      return { ran: false, why: reply?.kind === "refused" ? reply.reason : "the guest's init did not start the command" };
    }
    let master: number | undefined;
    if (req.terminal) {
      const got = lines.takeFds();
      master = got.length === 1 && isPtyMaster(got[0]!) ? got[0] : undefined;
      for (const other of got) if (other !== master) closeQuietly(other);
      if (master === undefined) {
        // Not what our init sends: whoever answered gets its command ended, if it started one,
        // and the runtime, which makes its own pty, runs the command instead.
        try {
          writeSync(fd, `${EXEC_SIGNAL} ${signalNumber("SIGKILL")}\n`);
        } catch {}
        return { ran: false, why: "the guest's init did not hand back a terminal" };
      }
    }
    onStarted?.(master);
    for (;;) {
      const line = await lines.next(-1);
      if (line === undefined) return { ran: true, status: 255 };
      const r = parseExecReply(line);
      if (r?.kind === "exit") return { ran: true, status: r.status };
    }
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
    lines.closeFds();
    closeSync(fd);
  }
}

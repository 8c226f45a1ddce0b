// The host's end of the guest init's exec service (protocol: pure/guest-exec-protocol.ts; the
// guest's end: native/guest-exec.c). One connection per command: the request and the command's
// three descriptors go in, "pid", "exit" (or "refused") come back, and the signals we get are
// passed on as "signal N" lines while the command runs.

import { chmodSync, closeSync, readSync, rmSync, writeSync } from "node:fs";
import { encodeExecRequest, EXEC_SIGNAL, parseExecReply, type GuestExecRequest } from "../pure/guest-exec-protocol";
import { signalNumber } from "./process";
import { connectUnix, listenUnix, sendWithFds, whenReadable } from "./unix-socket";

/** How long the guest's init may take to start the command before exec uses the runtime instead. */
const START_TIMEOUT_MS = 10_000;

/** The signals a caller (or its terminal) sends to an exec, which belong to the command. */
const PASSED_SIGNALS = ["SIGINT", "SIGQUIT", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2"] as const;

export type GuestExecOutcome =
  | { ran: true; status: number }
  /** Nothing ran: no socket, no answer, or the guest cannot give the command its policy. */
  | { ran: false; why: string };

/** Lines from the connection, bounded: a guest that sends endless text gets nowhere. */
class LineReader {
  private pending = "";
  constructor(private fd: number) {}

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
      const buf = Buffer.alloc(512);
      let n: number;
      try {
        n = readSync(this.fd, buf, 0, buf.length, null);
      } catch (e) {
        // A signal during the read: read again.
        if ((e as NodeJS.ErrnoException).code === "EINTR" || (e as NodeJS.ErrnoException).code === "EAGAIN") continue;
        return undefined;
      }
      if (n <= 0) return undefined;
      this.pending += buf.toString("utf8", 0, n);
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

/** `onStarted`: called once the guest's side has started the command (its "pid" line). */
export async function execThroughInit(socketPath: string, req: GuestExecRequest, stdio: [number, number, number], onStarted?: () => void): Promise<GuestExecOutcome> {
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
    const lines = new LineReader(fd);
    const first = await lines.next(START_TIMEOUT_MS);
    const reply = first === undefined ? undefined : parseExecReply(first);
    if (reply?.kind !== "pid") {
      // The caller asked to end a command that never started: it ends as if it had.
      if (signalled !== undefined) return { ran: true, status: 128 + signalled };
      return { ran: false, why: reply?.kind === "refused" ? reply.reason : "the guest's init did not start the command" };
    }
    onStarted?.();
    for (;;) {
      const line = await lines.next(-1);
      if (line === undefined) return { ran: true, status: 255 };
      const r = parseExecReply(line);
      if (r?.kind === "exit") return { ran: true, status: r.status };
    }
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
    closeSync(fd);
  }
}

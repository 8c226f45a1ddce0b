// How `vserver NAME exec` asks the guest's own init (src/native/guest-exec.c) to start a command,
// instead of paying for a runtime `exec` that joins every namespace and cgroup and loads the
// seccomp filter again. This file is the one definition: the build generates the C header from it
// (src/native/gen-protocol-header.ts).
//
// At start the host binds a unix socket at GuestPaths.execSocket (in the guest's bundle directory,
// which the guest cannot reach) and hands its listening descriptor to the guest's init as fd
// INIT_EXEC_FD. A connection carries one command. The host sends one request, with the command's
// standard input, output and error attached as SCM_RIGHTS descriptors (only pipes and sockets:
// control/exec.ts decides):
//
//   u32 little-endian length of what follows, then NUL-terminated fields:
//   MAGIC, uid, gid, working directory, nice, no_new_privs (0|1),
//   rlimit count, then per limit: resource number, soft, hard ("inf" for none),
//   argc, argv..., envc, env entries,
//   and for a command at a terminal: EXEC_TERMINAL, rows, cols (then no descriptors are attached)
//
// A terminal request never carries the host's terminal: the guest's side opens a fresh pty in the
// guest (its own /dev/ptmx), gives the command the pty's slave as its controlling terminal and
// stdio, and hands the pty's master back attached to the "pid" line. The host checks that what it
// got is a pty master (the character device of /dev/ptmx, 5:2), only ever sets the window
// size on it, and copies between it and its own terminal. The terminal fields come last so that a
// request without them is the one every earlier init understands.
//
// The guest's side answers with lines:
//   "pid N"        the command runs (N: its PID inside the guest); for a terminal, with the pty's
//                  master attached (SCM_RIGHTS)
//   "exit N"       it ended with status N (128+signal when a signal ended it); the last line
//   "refused TEXT" nothing ran, because the guest cannot give the command its policy (a limit
//                  init no longer holds, a user it cannot become): the host falls back to the
//                  runtime's exec, which can
// and takes from the host "signal N" lines, which it sends to the command.
//
// The guest's root can ptrace its own init, so everything that comes back is untrusted: the host
// parses only these lines, of bounded length, and trusts no more than the guest's word about
// itself.

export const INIT_EXEC_FD = 4;

export const EXEC_MAGIC = "vserver-exec-1";

/** The largest request the guest's side reads. */
export const MAX_EXEC_REQUEST_BYTES = 1 << 20;

export const EXEC_REPLY_PID = "pid";
export const EXEC_REPLY_EXIT = "exit";
export const EXEC_REPLY_REFUSED = "refused";
export const EXEC_SIGNAL = "signal";

/** The field that starts a terminal request's rows and cols. */
export const EXEC_TERMINAL = "terminal";
/** The largest rows or cols a terminal request may give (the kernel's winsize holds 16 bits). */
export const MAX_TERMINAL_SIZE = 65535;

/** Linux's RLIMIT_* numbers, the same on every architecture we build for. */
export const RLIMIT_NUMBERS: Record<string, number> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6, RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12, RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14,
};

export interface GuestExecRequest {
  uid: number;
  gid: number;
  cwd: string;
  nice: number;
  noNewPrivs: boolean;
  /** OCI names (RLIMIT_NOFILE); Number.MAX_SAFE_INTEGER or above means no limit. */
  rlimits: Array<{ type: string; soft: number; hard: number }>;
  argv: string[];
  env: string[];
  /** A fresh pty in the guest of this size, instead of the three descriptors. */
  terminal?: { rows: number; cols: number };
}

export function encodeExecRequest(r: GuestExecRequest): Buffer {
  const lim = (v: number) => (v >= Number.MAX_SAFE_INTEGER ? "inf" : String(v));
  const rl = r.rlimits.flatMap((l) => {
    const n = RLIMIT_NUMBERS[l.type];
    if (n === undefined) throw new Error(`internal: unknown resource limit ${l.type}`);
    return [String(n), lim(l.soft), lim(l.hard)];
  });
  const fields = [
    EXEC_MAGIC, String(r.uid), String(r.gid), r.cwd, String(r.nice), r.noNewPrivs ? "1" : "0",
    String(r.rlimits.length), ...rl, String(r.argv.length), ...r.argv, String(r.env.length), ...r.env,
    ...(r.terminal ? [EXEC_TERMINAL, String(size(r.terminal.rows)), String(size(r.terminal.cols))] : []),
  ];
  for (const f of fields) if (f.includes("\0")) throw new Error("internal: a NUL byte in an exec request field");
  const body = Buffer.from(fields.map((f) => f + "\0").join(""));
  if (body.length > MAX_EXEC_REQUEST_BYTES) throw new Error("the command and its environment are too large");
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length, 0);
  return Buffer.concat([len, body]);
}

function size(n: number): number {
  return Number.isInteger(n) && n >= 0 ? Math.min(n, MAX_TERMINAL_SIZE) : 0;
}

export type ExecReply =
  | { kind: "pid"; pid: number }
  | { kind: "exit"; status: number }
  | { kind: "refused"; reason: string };

/** One line from the guest's side; undefined for anything else (ignored, never trusted). */
export function parseExecReply(line: string): ExecReply | undefined {
  const m = /^(pid|exit) (\d{1,10})$/.exec(line);
  if (m) {
    const n = Number(m[2]);
    if (m[1] === "pid") return { kind: "pid", pid: n };
    return n <= 255 ? { kind: "exit", status: n } : undefined;
  }
  if (line.startsWith(`${EXEC_REPLY_REFUSED} `)) return { kind: "refused", reason: line.slice(EXEC_REPLY_REFUSED.length + 1, 300) };
  return undefined;
}

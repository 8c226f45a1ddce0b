// A worker of the host service: a JavaScript runtime that has already started and loaded every
// command, waiting for a connection. It takes one, becomes the caller for the length of one
// command (the caller's stdin, stdout, stderr, working directory, umask, environment and
// arguments), runs the same command code a direct call runs, reports the exit status, and exits.
// One command per process keeps every command's own assumptions true (process.exit, module state,
// process.env), and a command that crashes takes only itself down. The few commands that leave
// nothing behind (service/reusable.ts: the views) are the exception: the worker serves them,
// becomes itself again, and waits for the next connection. The supervisor
// (service/worker-pool.ts) keeps workers waiting, so the caller never pays the runtime's start.
//
// Threat model: only root may connect (the socket is in a 0700 directory, mode 0600, and the
// peer's uid is checked again here), and only a root confined no more than the service itself:
// a caller with fewer capabilities, no_new_privs, seccomp or other namespaces (reducecap,
// chcontext's box) is answered "direct" and keeps its own limits by running the command itself.
// A request that is malformed, or meant for another state root, is answered "direct" too.

import { closeSync, read, readSync, writeSync } from "node:fs";
import { COMMANDS } from "../cli/commands";
import { runCommand, runMain } from "../cli/main";
import { acceptConnection, duplicateAbove, duplicateOnto, newProcessGroup, peerCredentials, pollReadable, receiveWithFds } from "../drivers/unix-socket";
import { pathsFor } from "../pure/paths";
import { confinementOf } from "../drivers/proc-pid";
import { execBySpawning } from "../drivers/exec-self";
import { faultPoint } from "../drivers/fault";
import { setCaller } from "../drivers/journal";
import { reusableRequest } from "./reusable";
import { WORKER_BUSY, WORKER_IDLE, WORKER_TAKEN } from "./worker-pool";
import { MAX_REQUEST_BYTES, REPLY_DIRECT, REPLY_EXIT, REPLY_PID, decodeRequest, type ServiceRequest } from "../pure/service-protocol";

/** The listening socket, inherited from the supervisor. */
const LISTEN_FD = 3;
/** Our stdin is a pipe from the supervisor: end of file means it is gone. */
const SUPERVISOR_FD = 0;

/** The worker's own stdout, to the supervisor (the caller's is fd 1 while a command runs). */
let toSupervisor = 1;

function tell(what: string): void {
  try {
    writeSync(toSupervisor, what + "\n");
  } catch {}
}

function reply(conn: number, line: string): void {
  try {
    writeSync(conn, line + "\n");
  } catch {}
}

/** The whole request: the first read brings the descriptors, the rest follows as plain data. */
function readRequest(conn: number): { req: ServiceRequest; fds: number[] } | undefined {
  const first = receiveWithFds(conn, 65536);
  const fds = first.fds;
  const chunks = [first.data];
  let have = first.data.length;
  if (have < 4) return closeAll(fds);
  const want = first.data.readUInt32LE(0) + 4;
  if (want > MAX_REQUEST_BYTES) return closeAll(fds);
  while (have < want) {
    const b = Buffer.alloc(Math.min(65536, want - have));
    const n = readSync(conn, b);
    if (n <= 0) return closeAll(fds);
    chunks.push(b.subarray(0, n));
    have += n;
  }
  try {
    return { req: decodeRequest(Buffer.concat(chunks).subarray(4, want)), fds };
  } catch {
    return closeAll(fds);
  }
}

function closeAll(fds: number[]): undefined {
  for (const fd of fds) try { closeSync(fd); } catch {}
  return undefined;
}

/** Wait for a connection; returns it, or exits when the supervisor is gone (or tells us to go). */
function awaitConnection(): number {
  for (;;) {
    const ready = pollReadable([LISTEN_FD, SUPERVISOR_FD], -1);
    if (ready.includes(1)) process.exit(0);
    if (!ready.includes(0)) continue;
    const conn = acceptConnection(LISTEN_FD);
    if (conn >= 0) return conn;
  }
}

/** Become the caller and run its command, which ends the process. */
function serve(conn: number, req: ServiceRequest, fds: number[], distDir: string, peer: { uid: number; pid: number }): Promise<void> {
  becomeCaller(req, fds, distDir, peer);
  // Before our PID is sent: a worker that dies here leaves the client free to run the command.
  faultPoint("service.before-command");
  execBySpawning();
  process.on("exit", (code) => {
    try { faultPoint("service.after-command"); } catch {}
    reply(conn, `${REPLY_EXIT} ${code}`);
  });
  // A caller that goes away (killed, or its terminal closed) takes its command with it, as a
  // kill of the direct command would; what the command left half-done is recovered by the next
  // one, exactly as after a killed direct command.
  const probe = Buffer.alloc(1);
  read(conn, probe, 0, 1, null, () => process.kill(process.pid, "SIGKILL"));
  reply(conn, `${REPLY_PID} ${process.pid}`);
  return runMain(req.command, COMMANDS[req.command]!);
}

/** After this many commands served in its own process, a worker retires and a fresh one takes its place. */
const MAX_SERVED_IN_PROCESS = 1000;

/** What a reused worker puts back after each command: its own descriptors, directory, umask, environment. */
interface OwnState {
  stdio: [number, number, number];
  cwd: string;
  umask: number;
  env: Record<string, string | undefined>;
  argv: string[];
}

function keepOwnState(): OwnState {
  const stdio = [0, 1, 2].map((fd) => duplicateAbove(fd, 10)) as [number, number, number];
  return { stdio, cwd: process.cwd(), umask: process.umask(), env: { ...process.env }, argv: [...process.argv] };
}

function becomeCaller(req: ServiceRequest, fds: number[], distDir: string, peer: { uid: number; pid: number }): void {
  setCaller({ uid: peer.uid, pid: peer.pid });
  for (let i = 0; i < 3; i++) duplicateOnto(fds[i]!, i);
  closeAll(fds);
  process.chdir(req.cwd);
  process.umask(req.umask);
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, req.env);
  process.argv = [process.execPath, `${distDir}/${req.command}.js`, ...req.args];
}

function becomeSelf(own: OwnState): void {
  for (let i = 0; i < 3; i++) duplicateOnto(own.stdio[i]!, i);
  process.chdir(own.cwd);
  process.umask(own.umask);
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, own.env);
  process.argv = own.argv;
}

/**
 * Run a reusable command (service/reusable.ts) here and come back. No "pid" line: the client then
 * forwards no signal to us, since by the time it did we might be serving someone else; a client
 * whose worker dies before "exit" runs the command itself, which for these commands is harmless.
 */
async function serveInProcess(conn: number, req: ServiceRequest, fds: number[], distDir: string, peer: { uid: number; pid: number }, own: OwnState): Promise<void> {
  let code = 1;
  try {
    becomeCaller(req, fds, distDir, peer);
    code = await runCommand(req.command, COMMANDS[req.command]!, req.args);
  } finally {
    becomeSelf(own);
  }
  reply(conn, `${REPLY_EXIT} ${code}`);
  closeSync(conn);
}

/** Serve commands; the promise ends only with the process. */
export async function runWorker(distDir: string, socketPath: string): Promise<void> {
  // Our own process group: the client forwards its signals to the whole group, so the
  // runtime's and the guest's processes we start get them as they would from a terminal.
  newProcessGroup();
  const own = keepOwnState();
  toSupervisor = own.stdio[1];
  for (let served = 0; ; served++) {
    const conn = awaitConnection();
    tell(WORKER_TAKEN);
    let got: ReturnType<typeof readRequest>;
    let peer: { uid: number; pid: number } | undefined;
    try {
      faultPoint("service.accepted");
      peer = peerCredentials(conn);
      if (peer.uid !== 0) process.exit(0);
      // Root with fewer rights (reducecap, a chcontext box, seccomp, other namespaces) runs its
      // command itself: served, it would get ours.
      if (confinementOf(peer.pid) !== confinementOf("self")) {
        reply(conn, REPLY_DIRECT);
        process.exit(0);
      }
      got = readRequest(conn);
    } catch {
      got = undefined;
    }
    const req = got?.req;
    const usable = got && got.fds.length === 3 && req && Object.hasOwn(COMMANDS, req.command) && pathsFor(req.env).serviceSocket === socketPath;
    if (!usable) {
      if (got) closeAll(got.fds);
      reply(conn, REPLY_DIRECT);
      process.exit(0);
    }
    if (reusableRequest(req!.command, req!.args) && served < MAX_SERVED_IN_PROCESS) {
      try {
        await serveInProcess(conn, req!, got!.fds, distDir, peer!, own);
      } catch {
        // Something of the caller's was unusable (its directory is gone, say), and nothing ran:
        // the caller runs it.
        reply(conn, REPLY_DIRECT);
        try { closeSync(conn); } catch {}
      }
      tell(WORKER_IDLE);
      continue;
    }
    tell(WORKER_BUSY); // the supervisor starts the next worker now
    try {
      return await serve(conn, req!, got!.fds, distDir, peer!);
    } catch {
      // Nothing of the command ran yet (a working directory that is gone, say): the caller runs it.
      reply(conn, REPLY_DIRECT);
      process.exit(0);
    }
  }
}

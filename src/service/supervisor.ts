// The host service (vserverd): one per installation (state root), never one per guest. It owns
// the listening socket and keeps a few workers (service/worker.ts) started and waiting on it;
// each worker serves one command and exits, and a fresh one takes its place at once. Guests do
// not depend on it: it holds no guest state, and stopping or killing it (or a worker) leaves
// every guest running, with the state on disk and the locks as the truth, exactly as after a
// direct command. It ends on SIGTERM, when its socket is removed or replaced (the state root
// was deleted, or another service took over), or after a time without any request.

import { chmodSync, closeSync, existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import type { Subprocess } from "bun";
import { faultPoint } from "../drivers/fault";
import { acquireLock } from "../drivers/lock";
import { listenUnix } from "../drivers/unix-socket";
import type { Paths } from "../pure/paths";

export interface ServiceOptions {
  /** Workers kept waiting for a connection. */
  idleWorkers: number;
  /** Seconds without a request after which the service ends; 0 never. */
  idleTimeout: number;
  /** The worker's command line (the runtime and the bundle). */
  workerArgv: string[];
}

export async function runService(paths: Paths, o: ServiceOptions): Promise<number> {
  mkdirSync(paths.serviceDir, { recursive: true, mode: 0o700 });
  chmodSync(paths.serviceDir, 0o700);
  // One service per state root; a second one (two clients starting it at once) leaves quietly.
  let lock;
  try {
    lock = await acquireLock(paths.serviceDir, "service", "the host service", 0);
  } catch {
    return 0;
  }
  let listenFd: number;
  let socketIno: number;
  try {
    faultPoint("service.after-lock", paths.serviceSocket);
    rmSync(paths.serviceSocket, { force: true });
    listenFd = listenUnix(paths.serviceSocket);
    chmodSync(paths.serviceSocket, 0o600);
    socketIno = statSync(paths.serviceSocket).ino;
  } catch (e) {
    // The next command runs directly and starts a service again; nothing of ours may wait.
    rmSync(paths.serviceSocket, { force: true });
    lock.release();
    throw e;
  }
  faultPoint("service.after-listen");

  const idle = new Set<Subprocess>();
  let stopping = false;
  let lastRequest = Date.now();

  const spawnWorker = () => {
    if (stopping) return;
    const w = Bun.spawn(o.workerArgv, { stdio: ["pipe", "pipe", "ignore", listenFd], env: process.env as Record<string, string> });
    idle.add(w);
    (async () => {
      // The worker says "busy" when it has taken a connection: start its successor now, not
      // when it ends, so that a long command never leaves the socket without a waiting worker.
      for await (const _ of w.stdout as ReadableStream<Uint8Array>) {
        if (idle.delete(w)) {
          lastRequest = Date.now();
          spawnWorker();
        }
        break;
      }
    })();
    w.exited.then(() => {
      // A worker that died while waiting (it never said busy) is replaced too.
      if (idle.delete(w)) setTimeout(spawnWorker, 200);
    });
  };
  for (let i = 0; i < o.idleWorkers; i++) spawnWorker();

  const stop = () => {
    if (stopping) return;
    stopping = true;
    try {
      if (statSync(paths.serviceSocket).ino === socketIno) rmSync(paths.serviceSocket, { force: true });
    } catch {}
    // Closing their stdin tells the waiting workers to go; busy ones finish their command.
    for (const w of idle) try { (w.stdin as import("bun").FileSink).end(); } catch {}
    closeSync(listenFd);
    lock.release();
  };
  // The waiting workers are gone before we are, so that "stopped" means no process of ours waits.
  const stopAndExit = async () => {
    const waiting = [...idle];
    stop();
    await Promise.race([Promise.all(waiting.map((w) => w.exited)), Bun.sleep(3000)]);
    process.exit(0);
  };
  process.on("SIGTERM", stopAndExit);
  process.on("SIGINT", stopAndExit);

  for (;;) {
    await Bun.sleep(2000);
    let ours = false;
    try {
      ours = existsSync(paths.serviceSocket) && statSync(paths.serviceSocket).ino === socketIno;
    } catch {}
    const idleFor = (Date.now() - lastRequest) / 1000;
    if (!ours || (o.idleTimeout > 0 && idleFor > o.idleTimeout)) {
      stop();
      return 0;
    }
  }
}

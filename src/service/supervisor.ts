// The host service (vserverd): one per installation (state root), never one per guest. It owns
// the listening socket and keeps a few workers (service/worker.ts) started and waiting on it
// (service/worker-pool.ts): a worker serves one command and exits, or, for the few commands that
// leave nothing behind (service/reusable.ts), serves it and waits for the next. Guests do
// not depend on it: it holds no guest state, and stopping or killing it (or a worker) leaves
// every guest running, with the state on disk and the locks as the truth, exactly as after a
// direct command. It ends on SIGTERM, when its socket is removed or replaced (the state root
// was deleted, or another service took over), or after a time without any request.

import { chmodSync, closeSync, existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { faultPoint } from "../drivers/fault";
import { acquireLock } from "../drivers/lock";
import { listenUnix } from "../drivers/unix-socket";
import type { Paths } from "../pure/paths";
import { WorkerPool } from "./worker-pool";

export interface ServiceOptions {
  /** Workers kept waiting for a connection. */
  idleWorkers: number;
  /** Seconds without a request after which the service ends; 0 never. */
  idleTimeout: number;
  /** The worker's command line (the runtime and the bundle). */
  workerArgv: string[];
  /** The API's operation process's command line (service/api/operation.ts). */
  operationArgv: string[];
  /** The API console's command line (vserverd --console). */
  consoleArgv: string[];
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

  let stopping = false;
  let lastRequest = Date.now();
  const pool = new WorkerPool(o.workerArgv, listenFd, o.idleWorkers, () => (lastRequest = Date.now()));
  pool.start();
  // Loaded here only: the workers share this bundle, and the API's validation library would add
  // to every worker's start (docs/dependencies.md).
  const { startApi } = await import("./api/server");
  const api = startApi(paths, { operationArgv: o.operationArgv, consoleArgv: o.consoleArgv, onRequest: () => (lastRequest = Date.now()) });

  let workersGone: Promise<unknown> = Promise.resolve();
  const stop = () => {
    if (stopping) return;
    stopping = true;
    try {
      if (statSync(paths.serviceSocket).ino === socketIno) rmSync(paths.serviceSocket, { force: true });
    } catch {}
    // The waiting workers go now; busy ones finish their command.
    workersGone = pool.stop();
    closeSync(listenFd);
    api.stop();
    lock.release();
  };
  // The waiting workers are gone before we are, so that "stopped" means no process of ours waits.
  const stopAndExit = async () => {
    stop();
    await Promise.race([workersGone, Bun.sleep(3000)]);
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

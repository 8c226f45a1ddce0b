// The supervisor's workers (service/worker.ts): enough of them waiting on the socket at all times,
// and no more for long. A worker tells the supervisor what it is doing, one line at a time on its
// stdout:
//   "taken"  it accepted a connection. A successor is started only if the worker neither finishes
//            nor says "busy" within TAKEN_GRACE_MS, so a burst of quick commands served by
//            reusable workers (service/reusable.ts) costs no runtime start per command, and a
//            slow one still never leaves the socket without a waiting worker for long;
//   "busy"   the command is one that ends the worker: its successor is started at once;
//   "idle"   it served a reusable command and waits again. If a successor was started meanwhile
//            and enough workers wait, it is told to go (its stdin closed) instead.
// A worker that exits without a successor (it died, or retired after many commands) is replaced.

import type { Subprocess } from "bun";

export const WORKER_TAKEN = "taken";
export const WORKER_BUSY = "busy";
export const WORKER_IDLE = "idle";

/** How long a taken worker may serve before the supervisor starts its successor anyway. */
const TAKEN_GRACE_MS = 100;
/** A worker that died while waiting is replaced after this, so a crash loop cannot spin. */
const RESPAWN_DELAY_MS = 200;

interface Tracked {
  proc: Subprocess;
  /** A successor has been started for it (it is no longer counted among the waiting). */
  replaced: boolean;
  grace?: ReturnType<typeof setTimeout>;
}

export class WorkerPool {
  private waiting = new Set<Tracked>();
  private stopping = false;

  constructor(
    private argv: string[],
    private listenFd: number,
    private size: number,
    private onRequest: () => void,
  ) {}

  start(): void {
    for (let i = 0; i < this.size; i++) this.spawn();
  }

  /** Tell the waiting workers to go; those serving finish their command first. */
  stop(): Promise<unknown> {
    this.stopping = true;
    const gone = [...this.waiting].map((t) => t.proc.exited);
    for (const t of this.waiting) this.dismiss(t);
    return Promise.all(gone);
  }

  private spawn(): void {
    if (this.stopping) return;
    const proc = Bun.spawn(this.argv, { stdio: ["pipe", "pipe", "ignore", this.listenFd], env: process.env as Record<string, string> });
    const t: Tracked = { proc, replaced: false };
    this.waiting.add(t);
    this.follow(t);
    proc.exited.then(() => {
      clearTimeout(t.grace);
      const wasWaiting = this.waiting.delete(t);
      if (t.replaced) return;
      // Died while waiting: replace it after a pause. Ended while serving, before its successor
      // was due: replace it now.
      if (wasWaiting) setTimeout(() => this.spawn(), RESPAWN_DELAY_MS);
      else this.spawn();
    });
  }

  private replace(t: Tracked): void {
    clearTimeout(t.grace);
    t.grace = undefined;
    if (t.replaced) return;
    t.replaced = true;
    this.spawn();
  }

  private dismiss(t: Tracked): void {
    try {
      (t.proc.stdin as import("bun").FileSink).end();
    } catch {}
  }

  private async follow(t: Tracked): Promise<void> {
    let pending = "";
    for await (const chunk of t.proc.stdout as ReadableStream<Uint8Array>) {
      pending += new TextDecoder().decode(chunk);
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        this.heard(t, line);
      }
    }
  }

  private heard(t: Tracked, line: string): void {
    if (line === WORKER_TAKEN) {
      this.waiting.delete(t);
      this.onRequest();
      t.grace = setTimeout(() => this.replace(t), TAKEN_GRACE_MS);
    } else if (line === WORKER_BUSY) {
      this.replace(t);
    } else if (line === WORKER_IDLE) {
      clearTimeout(t.grace);
      t.grace = undefined;
      if (this.stopping || (t.replaced && this.waiting.size >= this.size)) {
        this.dismiss(t);
        t.replaced = true; // its exit needs no replacement
        return;
      }
      // Waiting again, and counted again: a successor started for it covers a later one.
      t.replaced = false;
      this.waiting.add(t);
    }
  }
}

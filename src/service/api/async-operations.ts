// Long operations (build) run in the background: the request answers at once with an operation
// id, and the client polls it (or waits on it) for its output so far and its outcome. They live
// as long as the service; the journal keeps their outcome after that.

import { randomBytes } from "node:crypto";
import type { OperationAnswer } from "./operation";
import type { RunningOperation } from "./operation-runner";

export interface AsyncOperation {
  id: string;
  op: string;
  guest?: string;
  /** Every guest it acts on by name (none when it chose them by a set, or acts on the host's store). */
  guests: string[];
  status: "running" | "succeeded" | "failed";
  created: string;
  ended?: string;
  /** The last lines the operation wrote (its progress). */
  output: string[];
  result?: unknown;
  error?: string;
  kind?: string;
  warnings?: string[];
}

const KEEP_LINES = 200;
const KEEP_FINISHED = 100;

export class AsyncOperations {
  private readonly ops = new Map<string, { view: AsyncOperation; done: Promise<void> }>();

  start(op: string, guest: string | undefined, guests: string[], running: RunningOperation): AsyncOperation {
    const view: AsyncOperation = { id: randomBytes(8).toString("hex"), op, guest, guests, status: "running", created: new Date().toISOString(), output: [] };
    const done = (async () => {
      let partial = "";
      for await (const c of running.output) {
        const lines = (partial + c.text).split("\n");
        partial = lines.pop()!;
        view.output.push(...lines);
        if (view.output.length > KEEP_LINES) view.output.splice(0, view.output.length - KEEP_LINES);
      }
      if (partial) view.output.push(partial);
      const a: OperationAnswer = await running.answer;
      view.ended = new Date().toISOString();
      view.warnings = a.warnings;
      if (a.ok) {
        view.status = "succeeded";
        view.result = a.result;
      } else {
        view.status = "failed";
        view.error = a.error;
        view.kind = a.kind;
      }
      this.prune();
    })();
    this.ops.set(view.id, { view, done });
    return view;
  }

  get(id: string): AsyncOperation | undefined {
    return this.ops.get(id)?.view;
  }

  list(): AsyncOperation[] {
    return [...this.ops.values()].map((o) => ({ ...o.view, output: [] }));
  }

  /** The operation once it ended, or as it is after `seconds`. */
  async wait(id: string, seconds: number): Promise<AsyncOperation | undefined> {
    const o = this.ops.get(id);
    if (!o) return undefined;
    await Promise.race([o.done, Bun.sleep(seconds * 1000)]);
    return o.view;
  }

  private prune(): void {
    const finished = [...this.ops.values()].filter((o) => o.view.status !== "running");
    for (const o of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.ops.delete(o.view.id);
  }
}

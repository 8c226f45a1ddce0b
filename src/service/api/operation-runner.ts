// The API server's side of service/api/operation.ts: it keeps one operation process started
// and waiting (so a request pays neither the runtime's start nor the bundle's load, as with the
// command workers), hands it a request, relays its standard streams, and reads its answer.

import { closeSync, writeSync } from "node:fs";
import type { Subprocess } from "bun";
import type { Caller } from "../../drivers/journal";
import { ANSWER_FD, REQUEST_FD, type OperationAnswer, type OperationRequest } from "./operation";

export interface RunningOperation {
  /** What the operation writes on its stdout and stderr, as it comes. */
  output: AsyncIterable<{ stream: "stdout" | "stderr"; text: string }>;
  answer: Promise<OperationAnswer>;
  kill(): void;
}

export class OperationRunner {
  private spare: Subprocess<"pipe", "pipe", "pipe"> | undefined;
  private closed = false;

  constructor(private readonly argv: string[]) {}

  private spawn(): Subprocess<"pipe", "pipe", "pipe"> {
    return Bun.spawn(this.argv, {
      stdio: ["pipe", "pipe", "pipe", "pipe", "pipe"],
      env: process.env as Record<string, string>,
    }) as unknown as Subprocess<"pipe", "pipe", "pipe">;
  }

  /** Start one now, for the first request. */
  warm(): void {
    if (!this.closed && !this.spare) this.spare = this.spawn();
  }

  run(request: OperationRequest, caller: Caller, stdin?: string): RunningOperation {
    const p = this.spare ?? this.spawn();
    this.spare = undefined;
    this.warm();
    const [reqFd, ansFd] = [p.stdio[REQUEST_FD] as unknown as number, p.stdio[ANSWER_FD] as unknown as number];
    writeSync(reqFd, JSON.stringify({ caller, request }));
    closeSync(reqFd);
    if (stdin) p.stdin.write(stdin);
    p.stdin.end();
    const answer = (async (): Promise<OperationAnswer> => {
      const text = await new Response(Bun.file(ansFd).stream()).text();
      await p.exited;
      try {
        return JSON.parse(text) as OperationAnswer;
      } catch {
        return { ok: false, error: `the operation process ended without an answer (${p.signalCode ?? `exit status ${p.exitCode}`}).`, kind: "Error", warnings: [] };
      }
    })();
    return { output: merge(p.stdout, p.stderr), answer, kill: () => p.kill("SIGKILL") };
  }

  close(): void {
    this.closed = true;
    // An idle operation process reads end of file as its request and ends.
    if (this.spare) closeSync(this.spare.stdio[REQUEST_FD] as unknown as number);
    this.spare = undefined;
  }
}

/** Both streams as one sequence of chunks, in the order they arrive. */
async function* merge(out: ReadableStream<Uint8Array>, err: ReadableStream<Uint8Array>): AsyncIterable<{ stream: "stdout" | "stderr"; text: string }> {
  const queue: Array<{ stream: "stdout" | "stderr"; text: string }> = [];
  let wake: (() => void) | undefined;
  let open = 2;
  const pump = async (s: ReadableStream<Uint8Array>, stream: "stdout" | "stderr") => {
    const dec = new TextDecoder();
    for await (const chunk of s) {
      queue.push({ stream, text: dec.decode(chunk, { stream: true }) });
      wake?.();
    }
    open--;
    wake?.();
  };
  void pump(out, "stdout");
  void pump(err, "stderr");
  for (;;) {
    while (queue.length) yield queue.shift()!;
    if (open === 0) return;
    await new Promise<void>((r) => (wake = r));
    wake = undefined;
  }
}

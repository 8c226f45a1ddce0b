// The REST API of a test host's service: start vserverd for the test's state root (whatever the
// suite's pass says about serving commands, the API needs the service) and talk HTTP to its
// Unix socket.

import { existsSync, readlinkSync } from "node:fs";
import type { Subprocess } from "bun";
import { BIN, type TestHost } from "./host";

export class ApiClient {
  private proc: Subprocess<"ignore", "ignore", "pipe"> | undefined;
  /** What the service wrote on stderr so far. */
  stderr = "";

  constructor(private readonly h: TestHost) {}

  get socket(): string {
    return `${this.h.root}/run/vservers/.service/api.sock`;
  }

  async start(): Promise<void> {
    // A service the test's own commands started (the suite's service pass) read the settings as
    // they were then, and ours would leave quietly beside it: it goes first. One may still be
    // starting when we stop it (a client starts it in the background), and win the root's lock
    // from ours: then ours has left, and we try again.
    for (let attempt = 0; attempt < 5; attempt++) {
      this.stopOthers();
      this.stderr = "";
      const proc = Bun.spawn([`${BIN}/vserverd`, "--idle-timeout", "0"], { env: this.h.env, stdio: ["ignore", "ignore", "pipe"] });
      this.proc = proc;
      void (async () => {
        for await (const c of proc.stderr) this.stderr += new TextDecoder().decode(c);
      })();
      const end = Date.now() + 15000;
      while (Date.now() < end && proc.exitCode === null && !(existsSync(this.socket) && this.lockHolder() === proc.pid)) await Bun.sleep(50);
      if (proc.exitCode === null && existsSync(this.socket)) return;
      proc.kill("SIGKILL");
      this.proc = undefined;
    }
    throw new Error("the service's API socket did not appear");
  }

  /** `vserverd --stop` waits 5 s at most, which a loaded machine can exceed: wait for it here. */
  private stopOthers(): void {
    this.h.run("vserverd", ["--stop"], { timeout: 30 });
    const gone = Date.now() + 30000;
    while (this.h.run("vserverd", ["--status"]).code !== 3 && Date.now() < gone) Bun.sleepSync(100);
  }

  /** The PID the root's service lock names (drivers/lock.ts: a link to "PID STARTTIME"). */
  private lockHolder(): number | undefined {
    try {
      return Number(readlinkSync(`${this.h.root}/run/vservers/.service/service.lock`).split(" ")[0]);
    } catch {
      return undefined;
    }
  }

  /** Stop the service we started (by its PID); `vserverd --stop` in cleanup covers the rest. */
  async stop(): Promise<void> {
    if (!this.proc) return;
    this.proc.kill("SIGTERM");
    await Promise.race([this.proc.exited, Bun.sleep(5000)]);
    this.proc.kill("SIGKILL");
    this.proc = undefined;
  }

  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`http://localhost${path}`, { ...init, unix: this.socket } as RequestInit);
  }

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const r = await this.fetch(path, { method, ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }) });
    const text = await r.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: r.status, json };
  }

  /** Start an asynchronous operation and wait for its end: its view (status, output, result or error). */
  async operation(method: string, path: string, body?: unknown, waitSeconds = 300): Promise<any> {
    const started = await this.call(method, path, body);
    if (started.status !== 202) throw new Error(`${method} ${path} answered ${started.status}, not 202: ${JSON.stringify(started.json)}`);
    for (;;) {
      const r = await this.call("GET", `${started.json.href}?wait=${waitSeconds}`);
      if (r.status !== 200) throw new Error(`GET ${started.json.href} answered ${r.status}: ${JSON.stringify(r.json)}`);
      if (r.json.status !== "running") return r.json;
    }
  }
}

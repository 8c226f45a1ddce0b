// The REST API of a test host's service: start vserverd for the test's state root (whatever the
// suite's pass says about serving commands, the API needs the service) and talk HTTP to its
// Unix socket.

import { existsSync } from "node:fs";
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
    this.stderr = "";
    this.proc = Bun.spawn([`${BIN}/vserverd`, "--idle-timeout", "0"], { env: this.h.env, stdio: ["ignore", "ignore", "pipe"] });
    void (async () => {
      for await (const c of this.proc!.stderr) this.stderr += new TextDecoder().decode(c);
    })();
    const end = Date.now() + 15000;
    while (!existsSync(this.socket)) {
      if (Date.now() > end) throw new Error("the service's API socket did not appear");
      await Bun.sleep(50);
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

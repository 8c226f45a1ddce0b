// The REST API's costs (issue 17), on a state root of its own that it removes at the end:
//   bun bench/api.ts [GUESTS] [RUNNING]      (default 100 guests, 50 of them running)
// - a status call through the API against `vserver NAME status` served by the service;
// - GET /v1/guests (every guest with usage) and GET /metrics with that many guests;
// - the event stream during a burst of starts and stops run 8 at a time: every one must arrive.
// Prints a Markdown table. Root only; makes busybox guests.

import { mkdtempSync, rmSync, existsSync } from "node:fs";

const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const N = Number(process.argv[2] ?? 100);
const RUNNING = Math.min(N, Number(process.argv[3] ?? 50));
const root = mkdtempSync("/tmp/vsbench-api-");
const env = { ...(process.env as Record<string, string>), VSERVER_ROOT: root };
const sock = `${root}/run/vservers/.service/api.sock`;
const names = Array.from({ length: N }, (_, i) => `b${i}`);

function vs(...args: string[]): number {
  return Bun.spawnSync([`${REPO}/bin/vserver`, ...args], { env, stdout: "ignore", stderr: "ignore" }).exitCode ?? 1;
}
async function parallel<T>(items: T[], n: number, f: (t: T) => void | Promise<void>): Promise<void> {
  const q = [...items];
  await Promise.all(Array.from({ length: n }, async () => {
    for (let t = q.shift(); t !== undefined; t = q.shift()) await f(t);
  }));
}
const api = (path: string, init: RequestInit = {}) => fetch(`http://x${path}`, { ...init, unix: sock } as RequestInit);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function timeIt(runs: number, f: () => Promise<unknown> | unknown): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await f();
    t.push(performance.now() - s);
  }
  return median(t);
}

const rows: string[][] = [];
let service: ReturnType<typeof Bun.spawn> | undefined;
try {
  const spawnVs = (args: string[]) => Bun.spawn([`${REPO}/bin/vserver`, ...args], { env, stdout: "ignore", stderr: "ignore" }).exited;
  await parallel(names, 4, async (n) => void (await spawnVs([n, "build", "-m", "busybox", "--quiet"])));
  await parallel(names.slice(0, RUNNING), 4, async (n) => void (await spawnVs([n, "start"])));
  service = Bun.spawn([`${REPO}/bin/vserverd`, "--idle-timeout", "0"], { env, stdio: ["ignore", "ignore", "inherit"] });
  while (!existsSync(sock)) await Bun.sleep(50);
  await api("/v1");

  const cmd = await timeIt(30, () => vs("b0", "status"));
  const viaApi = await timeIt(30, async () => (await api("/v1/guests/b0")).text());
  rows.push(["status of one guest: `vserver b0 status` (served)", `${cmd.toFixed(1)} ms`]);
  rows.push(["status of one guest: GET /v1/guests/b0", `${viaApi.toFixed(1)} ms (${(viaApi / cmd).toFixed(2)}× the command)`]);
  rows.push([`GET /v1/guests, ${N} guests (${RUNNING} running) with usage`, `${(await timeIt(10, async () => (await api("/v1/guests")).text())).toFixed(0)} ms`]);
  rows.push([`GET /metrics, ${N} guests (${RUNNING} running)`, `${(await timeIt(10, async () => (await api("/metrics")).text())).toFixed(0)} ms`]);

  // The event stream during a burst: each running guest stopped and started again, 8 at a time.
  const ac = new AbortController();
  const stream = await api("/v1/events?follow=1&op=start,stop", { signal: ac.signal });
  let seen = 0;
  const reader = stream.body!.getReader();
  const counting = (async () => {
    let buf = "";
    try {
      for (;;) {
        const c = await reader.read();
        if (c.done) return;
        buf += new TextDecoder().decode(c.value);
        const parts = buf.split("\n\n");
        buf = parts.pop()!;
        seen += parts.filter((p) => p.includes("\ndata: ")).length;
      }
    } catch {}
  })();
  const burst = names.slice(0, RUNNING);
  const s = performance.now();
  await parallel(burst, 8, async (n) => {
    await spawnVs([n, "stop"]);
    await spawnVs([n, "start"]);
  });
  const took = (performance.now() - s) / 1000;
  const want = burst.length * 2;
  const end = Date.now() + 5000;
  while (seen < want && Date.now() < end) await Bun.sleep(50);
  ac.abort();
  await counting;
  rows.push([`event stream during ${want} starts and stops (${(want / took).toFixed(1)} per second)`, `${seen} of ${want} events arrived`]);
} finally {
  service?.kill("SIGTERM");
  await service?.exited;
  await parallel(names, 4, async (n) => {
    vs("--silent", n, "stop");
    vs("--silent", n, "delete", "--force");
  });
  Bun.spawnSync([`${REPO}/bin/vserverd`, "--stop"], { env });
  rmSync(root, { recursive: true, force: true });
}
console.log("| what | median |\n|---|---|");
for (const r of rows) console.log(`| ${r[0]} | ${r[1]} |`);

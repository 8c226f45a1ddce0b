// The REST API's costs (issue 17), on a state root of its own that it removes at the end:
//   bun bench/api.ts [GUESTS] [RUNNING]      (default 100 guests, 50 of them running)
// - a status call through the API against `vserver NAME status` served by the service;
// - GET /v1/guests (every guest with usage) and GET /metrics with that many guests;
// - the event stream during a burst of starts and stops run 8 at a time: every one must arrive.
//   bun bench/api.ts events [RATE...]        (default 100 300 1000 events a second, 10 s each)
// - the event stream alone, at rates this machine cannot start and stop guests at: WRITERS
//   processes append start and stop events through the journal's own writer (drivers/journal.ts,
//   as every command does) at RATE a second together, while one client follows
//   /v1/events?follow=1; every event must arrive once, and the delay from append to arrival is
//   measured. No guests.
// Prints a Markdown table. Root only; makes busybox guests.

import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { record, setCaller } from "../src/drivers/journal";

const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

// One writer process of the events part: `bun bench/api.ts --journal-writer LOGDIR ID RATE SECONDS`.
if (process.argv[2] === "--journal-writer") {
  const [logDir, id, rate, seconds] = process.argv.slice(3) as [string, string, string, string];
  setCaller({ uid: 0, via: "bench" });
  const total = Math.round(Number(rate) * Number(seconds));
  const began = performance.now();
  for (let seq = 0; seq < total; seq++) {
    // Paced against the start, so that a late write does not slow the ones after it.
    const due = began + (seq * 1000) / Number(rate);
    const wait = due - performance.now();
    if (wait > 1) await Bun.sleep(wait);
    record(logDir, { op: seq % 2 ? "stop" : "start", guest: `w${id}g${seq % 50}`, context: 40000 + (seq % 50), ok: true, ms: 1, bench: { writer: Number(id), seq, sent: performance.timeOrigin + performance.now() } });
  }
  process.exit(0);
}

const EVENTS_ONLY = process.argv[2] === "events";
const WRITERS = 4;
const EVENT_SECONDS = 10;
const RATES = EVENTS_ONLY ? (process.argv.slice(3).length ? process.argv.slice(3).map(Number) : [100, 300, 1000]) : [];
const N = EVENTS_ONLY ? 0 : Number(process.argv[2] ?? 100);
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
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;
async function timeIt(runs: number, f: () => Promise<unknown> | unknown): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await f();
    t.push(performance.now() - s);
  }
  return median(t);
}

/** Follow the API's event stream; each event's data line is handed to `onData` as it arrives. */
async function followEvents(query: string, onData: (data: string) => void): Promise<{ stop(): Promise<void> }> {
  const ac = new AbortController();
  const stream = await api(`/v1/events?follow=1&${query}`, { signal: ac.signal });
  const reader = stream.body!.getReader();
  const dec = new TextDecoder();
  const reading = (async () => {
    let buf = "";
    try {
      for (;;) {
        const c = await reader.read();
        if (c.done) return;
        buf += dec.decode(c.value, { stream: true });
        const parts = buf.split("\n\n");
        buf = parts.pop()!;
        for (const p of parts) {
          const data = p.split("\n").find((l) => l.startsWith("data: "));
          if (data) onData(data.slice(6));
        }
      }
    } catch {}
  })();
  return {
    async stop() {
      ac.abort();
      await reading;
    },
  };
}

/** The events part at one rate: what the writers wrote, what arrived, and how late. */
async function streamAtRate(rate: number): Promise<string[]> {
  const arrived = new Map<string, number>();
  let duplicates = 0;
  const delays: number[] = [];
  const follower = await followEvents("op=start,stop", (data) => {
    const e = JSON.parse(data) as { bench?: { writer: number; seq: number; sent: number } };
    if (!e.bench) return;
    const key = `${e.bench.writer}/${e.bench.seq}`;
    if (arrived.has(key)) duplicates++;
    arrived.set(key, 1);
    delays.push(performance.timeOrigin + performance.now() - e.bench.sent);
  });
  const s = performance.now();
  const writers = Array.from({ length: WRITERS }, (_, i) =>
    Bun.spawn([process.execPath, import.meta.path, "--journal-writer", `${root}/var/log/vservers`, String(i), String(rate / WRITERS), String(EVENT_SECONDS)], { env, stdout: "ignore", stderr: "inherit" }).exited);
  await Promise.all(writers);
  const wrote = (performance.now() - s) / 1000;
  const want = WRITERS * Math.round((rate / WRITERS) * EVENT_SECONDS);
  const end = Date.now() + 5000;
  while (arrived.size < want && Date.now() < end) await Bun.sleep(50);
  await follower.stop();
  return [
    `${rate}/s asked (${(want / wrote).toFixed(0)}/s written by ${WRITERS} processes, ${EVENT_SECONDS} s)`,
    `${arrived.size} of ${want} arrived${duplicates ? `, ${duplicates} twice` : ""}`,
    `${percentile(delays, 0.5).toFixed(1)} ms / ${percentile(delays, 0.99).toFixed(1)} ms / ${Math.max(...delays).toFixed(0)} ms`,
  ];
}

const rows: string[][] = [];
const eventRows: string[][] = [];
/** Thrown to end the run early: the events part needs no guests. */
const DONE = new Error("done");
let service: ReturnType<typeof Bun.spawn> | undefined;
try {
  const spawnVs = (args: string[]) => Bun.spawn([`${REPO}/bin/vserver`, ...args], { env, stdout: "ignore", stderr: "ignore" }).exited;
  await parallel(names, 4, async (n) => void (await spawnVs([n, "build", "-m", "busybox", "--quiet"])));
  await parallel(names.slice(0, RUNNING), 4, async (n) => void (await spawnVs([n, "start"])));
  service = Bun.spawn([`${REPO}/bin/vserverd`, "--idle-timeout", "0"], { env, stdio: ["ignore", "ignore", "inherit"] });
  while (!existsSync(sock)) await Bun.sleep(50);
  await api("/v1");
  if (EVENTS_ONLY) {
    for (const rate of RATES) eventRows.push(await streamAtRate(rate));
    throw DONE;
  }

  const cmd = await timeIt(30, () => vs("b0", "status"));
  const viaApi = await timeIt(30, async () => (await api("/v1/guests/b0")).text());
  rows.push(["status of one guest: `vserver b0 status` (served)", `${cmd.toFixed(1)} ms`]);
  rows.push(["status of one guest: GET /v1/guests/b0", `${viaApi.toFixed(1)} ms (${(viaApi / cmd).toFixed(2)}× the command)`]);
  rows.push([`GET /v1/guests, ${N} guests (${RUNNING} running) with usage`, `${(await timeIt(10, async () => (await api("/v1/guests")).text())).toFixed(0)} ms`]);
  rows.push([`GET /metrics, ${N} guests (${RUNNING} running)`, `${(await timeIt(10, async () => (await api("/metrics")).text())).toFixed(0)} ms`]);

  // The event stream during a burst: each running guest stopped and started again, 8 at a time.
  let seen = 0;
  const follower = await followEvents("op=start,stop", () => seen++);
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
  await follower.stop();
  rows.push([`event stream during ${want} starts and stops (${(want / took).toFixed(1)} per second)`, `${seen} of ${want} events arrived`]);
} catch (e) {
  if (e !== DONE) throw e;
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
if (rows.length) {
  console.log("| what | median |\n|---|---|");
  for (const r of rows) console.log(`| ${r[0]} | ${r[1]} |`);
}
if (eventRows.length) {
  console.log("| event stream, start and stop events | arrived | delay p50 / p99 / max |\n|---|---|---|");
  for (const r of eventRows) console.log(`| ${r.join(" | ")} |`);
}

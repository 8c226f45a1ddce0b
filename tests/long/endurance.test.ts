// Long runs, kept out of `make test` (`make test-long`): many start/stop cycles of one guest with
// no growth beyond the bounded logs, and mixed operations in parallel on many guests with no wrong
// answer and nothing leaked. VSERVER_LONG_CYCLES and VSERVER_LONG_GUESTS shrink them for a quick try.

import { afterAll, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { TestHost, busyboxGuest, BIN } from "../helpers/host";
import { GUEST_LOG_MAX_BYTES, JOURNAL_MAX_BYTES } from "../../src/drivers/log-file";

const CYCLES = Number(process.env.VSERVER_LONG_CYCLES ?? 1000);
const GUESTS = Number(process.env.VSERVER_LONG_GUESTS ?? 50);
const h = new TestHost("long");
afterAll(() => h.cleanup());

function du(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { recursive: true }) as string[]) {
    try { n += statSync(`${dir}/${e}`).size; } catch {}
  }
  return n;
}

test(`${CYCLES} start/stop cycles: no growth beyond the bounded logs, nothing left`, () => {
  busyboxGuest(h, "cyc");
  h.ok("cyc", "start");
  h.ok("cyc", "stop");
  const runBase = du(h.runDir);
  for (let i = 0; i < CYCLES; i++) {
    h.ok("cyc", "start");
    h.ok("cyc", "stop");
  }
  expect(du(h.runDir)).toBeLessThanOrEqual(runBase + 4096);
  for (const f of readdirSync(h.logDir)) {
    const max = f.startsWith("events.log") ? JOURNAL_MAX_BYTES : GUEST_LOG_MAX_BYTES;
    expect(statSync(`${h.logDir}/${f}`).size).toBeLessThanOrEqual(max + 64 * 1024);
  }
  expect(h.leftovers()).toEqual([]);
}, 24 * 3600 * 1000);

test(`mixed operations in parallel on ${GUESTS} guests`, async () => {
  const names = Array.from({ length: GUESTS }, (_, i) => `par${i}`);
  for (const n of names) busyboxGuest(h, n);
  const run = async (...args: string[]) => {
    const p = Bun.spawn([`${BIN}/vserver`, ...args], { env: h.env, stdout: "pipe", stderr: "pipe" });
    const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
    return { code, out, err };
  };
  for (let round = 0; round < 3; round++) {
    const starts = await Promise.all(names.map((n) => run(n, "start")));
    expect(starts.filter((r) => r.code !== 0).map((r) => r.err)).toEqual([]);
    // exec, status and a second start at once: every answer must agree that the guest runs.
    const mixed = await Promise.all(names.flatMap((n) => [run(n, "exec", "true"), run(n, "status"), run(n, "start")]));
    for (let i = 0; i < names.length; i++) {
      expect(mixed[3 * i]!.code).toBe(0);
      expect(mixed[3 * i + 1]!.out).toMatch(/is running/);
      expect(mixed[3 * i + 2]!.err).toMatch(/already running/);
    }
    const stops = await Promise.all(names.map((n) => run(n, "stop")));
    expect(stops.filter((r) => r.code !== 0).map((r) => r.err)).toEqual([]);
  }
  expect(h.leftovers()).toEqual([]);
}, 24 * 3600 * 1000);

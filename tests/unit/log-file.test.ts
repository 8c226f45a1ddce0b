// The logs rotate by size and never fail the operation that writes them.

import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { appendLog } from "../../src/drivers/log-file";

const dir = mkdtempSync("/tmp/vserver-unit-log-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("a log past its limit becomes FILE.1 and a new one starts; one older generation is kept", () => {
  const f = `${dir}/g.log`;
  for (let i = 0; i < 50; i++) appendLog(f, `line ${i} ${"x".repeat(90)}\n`, 1000);
  expect(statSync(f).size).toBeLessThanOrEqual(1000 + 100);
  expect(statSync(`${f}.1`).size).toBeLessThanOrEqual(1000 + 100);
  expect(existsSync(`${f}.2`)).toBe(false);
  expect(readFileSync(f, "utf8")).toContain("line 49 ");
});

test("a log that cannot be written loses the line, not the operation", () => {
  writeFileSync(`${dir}/not-a-dir`, "");
  expect(() => appendLog(`${dir}/not-a-dir/g.log`, "x\n")).not.toThrow();
});

test("writers that rotate at once lose no line to a follower of the journal", async () => {
  const { followJournal } = await import("../../src/drivers/journal-reader");
  const logDir = mkdtempSync(`${dir}/journal-`);
  const got = new Set<string>();
  const f = followJournal(logDir, (evs) => {
    for (const e of evs) got.add(`${e.w}/${e.seq}`);
  }, { pollMs: 50 });
  const WRITERS = 4;
  const LINES = 5000;
  // Each line ~190 bytes, rotation past 512 KiB: some 7 rotations while four processes race (a
  // follower keeps one older generation, so it needs the journal not to rotate twice between its
  // looks: 4 MiB of events, some 16000, in a few milliseconds).
  const script = `const { appendLog } = await import(${JSON.stringify(`${import.meta.dir}/../../src/drivers/log-file.ts`)});
const [dir, w, n] = process.argv.slice(-3);
for (let i = 0; i < Number(n); i++) appendLog(dir + "/events.log", JSON.stringify({ op: "start", ok: true, w: Number(w), seq: i, pad: "x".repeat(120) }) + "\\n", 512 << 10);`;
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => Bun.spawn([process.execPath, "-e", script, logDir, String(w), String(LINES)], { stderr: "inherit" }).exited));
  const end = Date.now() + 3000;
  while (got.size < WRITERS * LINES && Date.now() < end) await Bun.sleep(50);
  f.stop();
  expect(got.size).toBe(WRITERS * LINES);
  expect(existsSync(`${logDir}/events.log.rotating`)).toBe(false);
});

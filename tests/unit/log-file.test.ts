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

// The native vserver-stat's cells against pure/format/vserver-stat.ts, the reference, over many
// values: the C program is built here from the same sources as bin/vserver-stat.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { formatSize, formatTime } from "../../src/pure/format/vserver-stat";

const REPO = new URL("../..", import.meta.url).pathname;
const dir = mkdtempSync("/tmp/vserver-native-format-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function native(lines: string[]): string[] {
  const exe = `${dir}/format-cells`;
  const cc = Bun.spawnSync(["gcc", "-O2", "-Wall", "-Werror", `-DBUN_PATH="x"`, `-DDIST_DIR="x"`, "-o", exe, `${REPO}tests/native/format-cells.c`, `${REPO}src/native/stat-format.c`, "-lm"], { stderr: "pipe" });
  if (cc.exitCode !== 0) throw new Error(`gcc failed: ${cc.stderr.toString()}`);
  const r = Bun.spawnSync([exe], { stdin: Buffer.from(lines.join("\n") + "\n"), stdout: "pipe" });
  return r.stdout.toString().trimEnd().split("\n");
}

/** Values around every unit and decimal boundary, plus a deterministic spread. */
function sizes(): number[] {
  const out = [0, 1, 512, 1023, 1024, 1025];
  for (let p = 1; p <= 5; p++) {
    const u = 1024 ** p;
    for (const f of [0.95, 0.99, 0.999, 1, 1.04, 1.05, 1.06, 1.5, 9.95, 9.99, 10, 99.9, 99.95, 100, 512, 1000, 1023.9, 1024]) out.push(Math.floor(u * f));
  }
  let x = 12345;
  for (let i = 0; i < 3000; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out.push(Math.floor((x / 2 ** 31) ** 6 * 2 ** 50));
  }
  return out.filter((v) => v <= Number.MAX_SAFE_INTEGER);
}

function ticks(): number[] {
  const out = [0, 1, 99, 100, 5999, 6000, 359999, 360000, 8639999, 8640000, 8640000 * 999, 8640000 * 1000, 8640000 * 1000 + 1];
  let x = 777;
  for (let i = 0; i < 3000; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out.push(Math.floor((x / 2 ** 31) ** 4 * 8640000 * 3000));
  }
  return out;
}

describe("native vserver-stat cells", () => {
  test("sizes equal the TypeScript formatter's", () => {
    const v = sizes();
    expect(native(v.map((n) => `size ${n}`))).toEqual(v.map(formatSize));
  });

  test("times (in ticks) equal the TypeScript formatter's (in seconds)", () => {
    const v = ticks();
    expect(native(v.map((n) => `ticks ${n}`))).toEqual(v.map((t) => formatTime(t / 100)));
  });
});

import { expect, test } from "bun:test";
import { encodeExecRequest, EXEC_MAGIC, EXEC_TERMINAL } from "../../src/pure/guest-exec-protocol";

const base = { uid: 0, gid: 0, cwd: "/", nice: 0, noNewPrivs: true, rlimits: [], argv: ["sh"], env: ["A=1"] };
const fields = (b: Buffer) => b.subarray(4).toString().split("\0").slice(0, -1);

test("a request without a terminal is the one earlier inits read; a terminal's size comes last", () => {
  expect(fields(encodeExecRequest(base))).toEqual([EXEC_MAGIC, "0", "0", "/", "0", "1", "0", "1", "sh", "1", "A=1"]);
  expect(fields(encodeExecRequest({ ...base, terminal: { rows: 33, cols: 101 } })).slice(-3)).toEqual([EXEC_TERMINAL, "33", "101"]);
  // Sizes the kernel's winsize cannot hold are clamped, nonsense is 0 (the kernel's "unknown").
  expect(fields(encodeExecRequest({ ...base, terminal: { rows: 1e6, cols: -3 } })).slice(-2)).toEqual(["65535", "0"]);
});

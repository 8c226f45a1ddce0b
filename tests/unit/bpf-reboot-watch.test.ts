import { describe, expect, test } from "bun:test";
import { rebootWatchProgram } from "../../src/pure/bpf/reboot-watch-program";
import { assemble } from "../../src/pure/bpf/insn";

const offsets = { taskThreadPid: 1368, taskTgid: 1268, pidLevel: 4, pidNumbers: 144, upidSize: 16, upidNs: 8, pidNsReboot: 104 };

describe("the reboot watch program", () => {
  test("assembles, loads the map by fd and ends with r0 = 0; exit", () => {
    const code = assemble(rebootWatchProgram(offsets, 7));
    const words = Array.from({ length: code.length / 8 }, (_, i) => code.subarray(i * 8, i * 8 + 8));
    const ldMap = words.find((w) => w[0] === 0x18)!;
    expect(ldMap[1]! >> 4).toBe(1);
    expect(new DataView(ldMap.buffer, ldMap.byteOffset).getInt32(4, true)).toBe(7);
    expect(Array.from(words.at(-1)!)).toEqual([0x95, 0, 0, 0, 0, 0, 0, 0]);
  });

  test("refuses a kernel whose struct upid it does not know", () => {
    expect(() => rebootWatchProgram({ ...offsets, upidSize: 24 }, 7)).toThrow("struct upid");
  });
});

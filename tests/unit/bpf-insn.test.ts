import { describe, expect, test } from "bun:test";
import { add64Reg, ldMapFd, lsh64Imm, assemble, AssembleError, call, exit, ja, jeq32, jne32, label, ldx, mov32Imm, mov64Imm, mov64Reg, add64Imm, st, stx, R0, R1, R2, R3, R6, R10 } from "../../src/pure/bpf/insn";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("").replace(/(.{16})(?!$)/g, "$1 ");

describe("bpf instruction encodings", () => {
  // Expected bytes as `bpftool prog dump xlated opcodes` / llvm-objdump print them.
  test.each([
    ["r0 = 1", mov64Imm(R0, 1), "b700000001000000"],
    ["r0 = -1", mov64Imm(R0, -1), "b7000000ffffffff"],
    ["exit", exit(), "9500000000000000"],
    ["r6 = r1", mov64Reg(R6, R1), "bf16000000000000"],
    ["w3 = 0x4d00007f", mov32Imm(R3, 0x4d00007f), "b40300007f00004d"],
    ["w3 = 0xc800000a (top bit set)", mov32Imm(R3, 0xc800000a), "b40300000a0000c8"],
    ["r2 += -32", add64Imm(R2, -32), "07020000e0ffffff"],
    ["w2 = *(u32 *)(r6 + 4)", ldx("w", R2, R6, 4), "6162040000000000"],
    ["*(u32 *)(r6 + 4) = w3", stx("w", R6, 4, R3), "6336040000000000"],
    ["*(u64 *)(r10 - 8) = r2", stx("dw", R10, -8, R2), "7b2af8ff00000000"],
    ["*(u16 *)(r10 - 16) = 2", st("h", R10, -16, 2), "6a0af0ff02000000"],
    ["call bpf_bind", call(64), "8500000040000000"],
    ["r7 += r2", add64Reg(R6 + 1, R2), "0f27000000000000"],
    ["r2 <<= 4", lsh64Imm(R2, 4), "6702000004000000"],
  ])("%s", (_, ins, bytes) => {
    expect(hex(assemble([ins]))).toBe(bytes);
  });

  test("jumps: JMP32 opcodes, offsets counted from the next instruction", () => {
    const code = assemble([jeq32(R2, 0xc800000a, "out"), jne32(R2, 0, "out"), ja("out"), label("out"), exit()]);
    expect(hex(code)).toBe("160202000a0000c8 5602010000000000 0500000000000000 9500000000000000");
  });

  test("a map's fd is a two-slot 64-bit load with src BPF_PSEUDO_MAP_FD", () => {
    expect(hex(assemble(ldMapFd(R1, 5)))).toBe("1811000005000000 0000000000000000");
  });

  test("labels must exist, be unique and lie ahead", () => {
    expect(() => assemble([ja("nowhere"), exit()])).toThrow(AssembleError);
    expect(() => assemble([label("a"), label("a"), exit()])).toThrow(AssembleError);
    expect(() => assemble([label("back"), exit(), ja("back")])).toThrow(/backwards/);
  });
});

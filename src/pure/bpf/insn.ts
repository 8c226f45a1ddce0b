// A minimal eBPF instruction encoder with labels, enough for the cgroup socket programs of
// chbind and of guests on the host's stack. Hand-assembled instead of compiled so that no clang, libbpf or bpffs is needed at run
// time (reference feasibility §1.5). Pure: the bytes are unit-tested against known encodings.

/** One 8-byte instruction; a jump may name a label that assemble() turns into its offset. */
export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  target?: string;
}

/** A label marks the position of the next instruction. */
export interface Label {
  label: string;
}

export type Item = Insn | Label;

// Opcode parts (linux/bpf_common.h, linux/bpf.h).
const BPF_LDX = 0x01, BPF_ST = 0x02, BPF_STX = 0x03, BPF_ALU = 0x04, BPF_JMP = 0x05, BPF_JMP32 = 0x06, BPF_ALU64 = 0x07;
const BPF_W = 0x00, BPF_H = 0x08, BPF_B = 0x10, BPF_DW = 0x18, BPF_MEM = 0x60;
const BPF_K = 0x00, BPF_X = 0x08;
const BPF_ADD = 0x00, BPF_AND = 0x50, BPF_LSH = 0x60, BPF_MOV = 0xb0;
const BPF_LD = 0x00, BPF_IMM = 0x00;
const BPF_JA = 0x00, BPF_JEQ = 0x10, BPF_JGT = 0x20, BPF_JNE = 0x50, BPF_CALL = 0x80, BPF_EXIT = 0x90;
/** src_reg of a call to a kernel function named by its BTF id (a kfunc) instead of a helper number. */
const BPF_PSEUDO_KFUNC_CALL = 2;
/** src_reg of a 64-bit immediate load whose immediate is a map's file descriptor. */
const BPF_PSEUDO_MAP_FD = 1;

export type Size = "b" | "w" | "h" | "dw";
const SIZE: Record<Size, number> = { b: BPF_B, w: BPF_W, h: BPF_H, dw: BPF_DW };

export const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5, R6 = 6, R7 = 7, R10 = 10;

/** Immediates are signed 32-bit in the encoding; an IP word >= 2^31 keeps its bits. */
function s32(n: number): number {
  return n | 0;
}

function insn(code: number, dst: number, src: number, off: number, imm: number, target?: string): Insn {
  return { code, dst, src, off, imm: s32(imm), ...(target ? { target } : {}) };
}

export const label = (name: string): Label => ({ label: name });

/** dst = imm (64-bit register, immediate sign-extended). */
export const mov64Imm = (dst: number, imm: number) => insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
/** dst = src (64-bit). */
export const mov64Reg = (dst: number, src: number) => insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
/** wdst = imm: 32-bit, upper half zeroed, so any 32-bit pattern is loaded as is. */
export const mov32Imm = (dst: number, imm: number) => insn(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, imm);
export const add64Imm = (dst: number, imm: number) => insn(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm);
/** dst += src (64-bit). */
export const add64Reg = (dst: number, src: number) => insn(BPF_ALU64 | BPF_ADD | BPF_X, dst, src, 0, 0);
/** dst <<= imm (64-bit). */
export const lsh64Imm = (dst: number, imm: number) => insn(BPF_ALU64 | BPF_LSH | BPF_K, dst, 0, 0, imm);
/** dst = the map whose fd is `mapFd` (a two-slot instruction; the kernel swaps in the map). */
export const ldMapFd = (dst: number, mapFd: number): Insn[] => [
  insn(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, mapFd),
  insn(0, 0, 0, 0, 0),
];
/** wdst &= imm (32-bit). */
export const and32Imm = (dst: number, imm: number) => insn(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm);
/** dst = *(size *)(src + off) */
export const ldx = (size: Size, dst: number, src: number, off: number) => insn(BPF_LDX | BPF_MEM | SIZE[size], dst, src, off, 0);
/** *(size *)(dst + off) = src. The verifier refuses store-immediate into the context: use this there. */
export const stx = (size: Size, dst: number, off: number, src: number) => insn(BPF_STX | BPF_MEM | SIZE[size], dst, src, off, 0);
/** *(size *)(dst + off) = imm (stack only). */
export const st = (size: Size, dst: number, off: number, imm: number) => insn(BPF_ST | BPF_MEM | SIZE[size], dst, 0, off, imm);
/**
 * 32-bit compares: a 64-bit JEQ sign-extends its immediate, so an address word with the top bit
 * set (an IP ending in .128 or more) would never match (feasibility §1.6 pitfall 6).
 */
export const jeq32 = (dst: number, imm: number, target: string) => insn(BPF_JMP32 | BPF_JEQ | BPF_K, dst, 0, 0, imm, target);
export const jne32 = (dst: number, imm: number, target: string) => insn(BPF_JMP32 | BPF_JNE | BPF_K, dst, 0, 0, imm, target);
/** Unsigned 32-bit "greater than". */
export const jgt32 = (dst: number, imm: number, target: string) => insn(BPF_JMP32 | BPF_JGT | BPF_K, dst, 0, 0, imm, target);
/** 64-bit compare with 0: how the verifier learns a helper's returned pointer is not NULL. */
export const jeqNull = (dst: number, target: string) => insn(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, 0, 0, target);
export const jneNull = (dst: number, target: string) => insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, 0, 0, target);
export const ja = (target: string) => insn(BPF_JMP | BPF_JA, 0, 0, 0, 0, target);
export const call = (helper: number) => insn(BPF_JMP | BPF_CALL, 0, 0, 0, helper);
/** Call a kernel function by its BTF id in the running kernel's BTF (src/pure/bpf/btf.ts). */
export const callKfunc = (btfId: number) => insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, btfId);
export const exit = () => insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

export class AssembleError extends Error {}

/** Resolve labels and encode: 8 bytes per instruction, little-endian (x86-64 and aarch64). */
export function assemble(items: readonly Item[]): Uint8Array {
  const at = new Map<string, number>();
  const code: Insn[] = [];
  for (const it of items) {
    if ("label" in it) {
      if (at.has(it.label)) throw new AssembleError(`label '${it.label}' defined twice`);
      at.set(it.label, code.length);
    } else code.push(it);
  }
  const out = new Uint8Array(code.length * 8);
  const view = new DataView(out.buffer);
  code.forEach((ins, i) => {
    let off = ins.off;
    if (ins.target !== undefined) {
      const t = at.get(ins.target);
      if (t === undefined) throw new AssembleError(`label '${ins.target}' is not defined`);
      off = t - (i + 1);
      if (off < 0) throw new AssembleError(`jump to '${ins.target}' goes backwards (the verifier refuses loops)`);
    }
    view.setUint8(i * 8, ins.code);
    view.setUint8(i * 8 + 1, ((ins.src & 0xf) << 4) | (ins.dst & 0xf));
    view.setInt16(i * 8 + 2, off, true);
    view.setInt32(i * 8 + 4, ins.imm, true);
  });
  return out;
}

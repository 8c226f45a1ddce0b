// A reader for the kernel's BTF (/sys/kernel/btf/vmlinux), just enough to find what a
// hand-assembled program needs from the running kernel: the id of a kernel function it calls
// (a kfunc call names its callee by BTF id), a struct member's offset, an enum's value. This is
// what libbpf's CO-RE relocations do at load time; here it is a lookup by name.
// Format: Documentation/bpf/btf.rst (header, then the type section and the string section).

export class BtfError extends Error {}

const MAGIC = 0xeb9f;
const KIND = { struct: 4, union: 5, enum: 6, func: 12, enum64: 19 } as const;

/** Bytes that follow each type's 12-byte header, by kind (vlen = number of members/values). */
function extraBytes(kind: number, vlen: number): number {
  switch (kind) {
    case 1: return 4; // INT
    case 3: return 12; // ARRAY
    case 4: case 5: return 12 * vlen; // STRUCT, UNION: members
    case 6: return 8 * vlen; // ENUM
    case 13: return 8 * vlen; // FUNC_PROTO: params
    case 14: return 4; // VAR
    case 15: return 12 * vlen; // DATASEC
    case 17: return 4; // DECL_TAG
    case 19: return 12 * vlen; // ENUM64
    default: return 0; // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG
  }
}

interface TypeEntry {
  id: number;
  kind: number;
  vlen: number;
  kflag: boolean;
  /** Offset of the type's extra data (members, values) in the buffer. */
  extra: number;
}

export class Btf {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly strBase: number;
  private readonly strEnd: number;
  private readonly typeOff: number;
  private readonly typeEnd: number;

  constructor(data: Uint8Array) {
    this.bytes = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const v = this.view;
    if (data.byteLength < 24 || v.getUint16(0, true) !== MAGIC) throw new BtfError("not BTF data (bad magic)");
    const hdrLen = v.getUint32(4, true);
    this.typeOff = hdrLen + v.getUint32(8, true);
    this.typeEnd = this.typeOff + v.getUint32(12, true);
    this.strBase = hdrLen + v.getUint32(16, true);
    this.strEnd = this.strBase + v.getUint32(20, true);
  }

  private str(off: number): string {
    const start = this.strBase + off;
    const end = this.bytes.indexOf(0, start);
    return new TextDecoder().decode(this.bytes.subarray(start, end < 0 ? this.strEnd : end));
  }

  /**
   * Where a name sits in the string section (a kernel's BTF has ~100k types: comparing offsets is
   * what keeps a lookup to milliseconds instead of decoding every name).
   */
  private nameOffsets(name: string): Set<number> {
    const want = new TextEncoder().encode(name + "\0");
    const out = new Set<number>();
    const strs = this.bytes.subarray(this.strBase, this.strEnd);
    for (let i = strs.indexOf(want[0]!); i >= 0; i = strs.indexOf(want[0]!, i + 1)) {
      if (i > 0 && strs[i - 1] !== 0) continue;
      let ok = true;
      for (let k = 1; k < want.length && ok; k++) ok = strs[i + k] === want[k];
      if (ok) out.add(i);
    }
    return out;
  }

  private find(kind: number, name: string): TypeEntry {
    const offs = this.nameOffsets(name);
    const v = this.view;
    // Type ids start at 1; id 0 is void.
    let id = 1;
    for (let p = this.typeOff; p < this.typeEnd; id++) {
      const info = v.getUint32(p + 4, true);
      const k = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      if (k === kind && offs.has(v.getUint32(p, true))) return { id, kind: k, vlen, kflag: info >>> 31 === 1, extra: p + 12 };
      p += 12 + extraBytes(k, vlen);
    }
    throw new BtfError(`the kernel's BTF has no ${Object.entries(KIND).find(([, x]) => x === kind)?.[0] ?? "type"} '${name}'`);
  }

  /** The BTF id of a kernel function (what a kfunc call's immediate holds). */
  funcId(name: string): number {
    return this.find(KIND.func, name).id;
  }

  /** The size in bytes of a struct. */
  structSize(struct: string): number {
    return this.view.getUint32(this.find(KIND.struct, struct).extra - 4, true);
  }

  /** The bit offset of a member of a struct, bit fields included. */
  memberBitOffset(struct: string, member: string): number {
    const t = this.find(KIND.struct, struct);
    for (let i = 0; i < t.vlen; i++) {
      const m = t.extra + 12 * i;
      if (this.str(this.view.getUint32(m, true)) !== member) continue;
      const bits = this.view.getUint32(m + 8, true);
      // With kind_flag set, the low 24 bits are the offset and the high 8 the bit-field size.
      return t.kflag ? bits & 0xffffff : bits;
    }
    throw new BtfError(`the kernel's struct ${struct} has no member '${member}'`);
  }

  /** The byte offset of a (non-bitfield) member of a struct. */
  memberOffset(struct: string, member: string): number {
    const bitOffset = this.memberBitOffset(struct, member);
    if (bitOffset % 8) throw new BtfError(`${struct}.${member} is a bit field`);
    return bitOffset / 8;
  }

  /** The value of one enumerator of a named enum, or undefined if this kernel lacks it. */
  enumValue(enumName: string, value: string): number | undefined {
    const t = this.find(KIND.enum, enumName);
    for (let i = 0; i < t.vlen; i++) {
      const e = t.extra + 8 * i;
      if (this.str(this.view.getUint32(e, true)) === value) return this.view.getInt32(e + 4, true);
    }
    return undefined;
  }
}

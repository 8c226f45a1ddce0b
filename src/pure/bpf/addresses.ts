// chbind's --ip values: checked and turned into the network-order bytes the programs compare.
// The prefix is accepted (util-vserver's ADDR/prefix form) but a socket binds one address, so it
// only has to be valid.

import { UsageError } from "../../errors";
import { isIPv4, isIPv6 } from "../config/interfaces";

export interface BindAddress {
  family: 4 | 6;
  /** Canonical text, as printed by chbind. */
  text: string;
  /** Network byte order: 4 or 16 bytes. */
  bytes: Uint8Array;
}

function v4Bytes(s: string): Uint8Array {
  return Uint8Array.from(s.split(".").map(Number));
}

function v6Bytes(s: string): Uint8Array {
  const out = new Uint8Array(16);
  let tail4: Uint8Array | undefined;
  let str = s;
  const lastColon = str.lastIndexOf(":");
  if (str.slice(lastColon + 1).includes(".")) {
    tail4 = v4Bytes(str.slice(lastColon + 1));
    str = str.slice(0, lastColon + 1) + "0:0";
  }
  const [head, tail] = str.split("::") as [string, string | undefined];
  const groups = (h: string) => (h === "" ? [] : h.split(":").map((g) => parseInt(g, 16)));
  const hg = groups(head);
  const tg = tail === undefined ? [] : groups(tail);
  const all = [...hg, ...new Array(8 - hg.length - tg.length).fill(0), ...tg];
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (tail4) out.set(tail4, 12);
  return out;
}

function v6Text(b: Uint8Array): string {
  const g = Array.from({ length: 8 }, (_, i) => (b[i * 2]! << 8) | b[i * 2 + 1]!);
  // RFC 5952: the longest run (>= 2) of zero groups becomes "::".
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

const isZero = (b: Uint8Array) => b.every((x) => x === 0);

/** One --ip value; throws a UsageError naming the flag. */
export function parseBindAddress(value: string, flag = "--ip"): BindAddress {
  const slash = value.indexOf("/");
  const addr = slash < 0 ? value : value.slice(0, slash);
  const prefix = slash < 0 ? undefined : value.slice(slash + 1);
  let a: BindAddress;
  if (isIPv4(addr)) a = { family: 4, text: addr, bytes: v4Bytes(addr) };
  else if (isIPv6(addr)) {
    const b = v6Bytes(addr);
    // ::ffff:a.b.c.d is how an IPv6 socket spells an IPv4 address: treat it as that address.
    const mapped = b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
    a = mapped ? { family: 4, text: Array.from(b.slice(12)).join("."), bytes: b.slice(12) } : { family: 6, text: v6Text(b), bytes: b };
  } else throw new UsageError(`${flag}: '${addr}' is not an IPv4 or IPv6 address.`);
  if (prefix !== undefined) {
    const max = a.family === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) throw new UsageError(`${flag}: '${prefix}' in '${value}' is not a prefix length (0 to ${max}).`);
  }
  if (isZero(a.bytes)) throw new UsageError(`${flag}: '${addr}' is the wildcard address; give the address the command may use.`);
  return a;
}

/** All --ip values in order, duplicates dropped (the first one is where wildcard binds go). */
export function parseBindAddresses(values: readonly string[], flag = "--ip"): BindAddress[] {
  const out: BindAddress[] = [];
  for (const v of values) {
    const a = parseBindAddress(v, flag);
    if (!out.some((o) => o.text === a.text)) out.push(a);
  }
  return out;
}

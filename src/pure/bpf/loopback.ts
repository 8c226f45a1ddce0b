// util-vserver's lback on the host's stack: the guest's 127.0.0.1 is an address of its own in
// 127.0.0.0/8, so its loopback services do not meet the host's or another guest's. This is the
// rule every bind, connect and sendmsg program of a guest on the host's stack starts with; it
// decides loopback addresses and hands any other address on to the label `next`.

import { and32Imm, ja, jeq32, jne32, label, ldx, mov32Imm, mov64Reg, stx, R1, R2, R3, R4, R5, R6, type Item } from "./insn";

/**
 * The guest's loopback address: 127.1.H.L for context H*256+L (contexts are 2..49151), so no
 * guest shares it with another or with the host's 127.0.0.x (Debian's 127.0.1.1 included).
 */
export function lbackAddress(context: number): Uint8Array {
  return Uint8Array.of(127, 1, (context >> 8) & 0xff, context & 0xff);
}

/** The 32-bit word a little-endian load of these network-order bytes gives. */
export function word(b: Uint8Array, at = 0): number {
  return new DataView(b.buffer, b.byteOffset + at, 4).getUint32(0, true);
}

export const LOCALHOST = word(Uint8Array.of(127, 0, 0, 1));
export const MAPPED_PREFIX = word(Uint8Array.of(0, 0, 0xff, 0xff));
const IP6_ONE = word(Uint8Array.of(0, 0, 0, 1));

/**
 * On the IPv4 address in w2, read from ctx + field (ctx in r6):
 *   if ((ip & 0xff) != 127) goto next;         // first byte in network order: not loopback
 *   if (ip == LBACK) return 1;
 *   if (ip != 127.0.0.1) return 0;
 *   ctx->field = LBACK; return 1;
 */
function rule4(field: number, lback: number, next: string): Item[] {
  return [
    mov64Reg(R3, R2), and32Imm(R3, 0xff), jne32(R3, 127, next),
    jeq32(R2, lback, "allow"),
    jne32(R2, LOCALHOST, "deny"),
    mov32Imm(R3, lback), stx("w", R6, field, R3),
    ja("allow"),
  ];
}

/** The rule for an IPv4 field (user_ip4 of bind4, connect4, sendmsg4). Leaves ctx in r6. */
export function loopback4(field: number, lback: number, next: string): Item[] {
  return [mov64Reg(R6, R1), ldx("w", R2, R6, field), ...rule4(field, lback, next)];
}

/**
 * For an IPv6 field (bind6, connect6, sendmsg6):
 *   if (ip6 == ::1) return 0;                  // one IPv6 loopback address: it cannot be split
 *   if (ip6 is not ::ffff:a.b.c.d) goto next;
 *   <the IPv4 rule on the last word>
 */
export function loopback6(field: number, lback: number, next: string): Item[] {
  return [
    mov64Reg(R6, R1),
    ldx("w", R2, R6, field), ldx("w", R3, R6, field + 4), ldx("w", R4, R6, field + 8), ldx("w", R5, R6, field + 12),
    jne32(R2, 0, next), jne32(R3, 0, next),
    jne32(R4, 0, "lb-not-one"), jeq32(R5, IP6_ONE, "deny"),
    label("lb-not-one"),
    jne32(R4, MAPPED_PREFIX, next),
    mov64Reg(R2, R5),
    ...rule4(field + 12, lback, next),
  ];
}

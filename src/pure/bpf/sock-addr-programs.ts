// The cgroup sock_addr programs that give a host command util-vserver's set_ipv4root semantics:
// wildcard binds get the first allowed address, other addresses are refused (EPERM), connects
// and unconnected UDP sends get an allowed source. The addresses are immediates in the code, so
// no map is needed (feasibility §1.5). Every hook of both families is always built: a missing v6
// hook would leave IPv6 unrestricted (feasibility §1.6 pitfall 3).

import type { BindAddress } from "./addresses";
import {
  assemble, call, exit, jeq32, jeqNull, ja, jne32, jneNull, label, ldx, mov32Imm, mov64Imm, mov64Reg, add64Imm, and32Imm, stx,
  R0, R1, R2, R3, R4, R5, R6, R7, R10, type Item,
} from "./insn";
import { loopback4, loopback6, word } from "./loopback";

export const BPF_PROG_TYPE_CGROUP_SOCK_ADDR = 18;

export const ATTACH = {
  bind4: 8,
  bind6: 9,
  connect4: 10,
  connect6: 11,
  sendmsg4: 14,
  sendmsg6: 15,
} as const;

export type HookName = keyof typeof ATTACH;

export interface Program {
  name: HookName;
  progType: number;
  attachType: number;
  /** Encoded instructions, 8 bytes each. */
  code: Uint8Array;
}

// struct bpf_sock_addr (linux/bpf.h): every field a __u32.
const USER_IP4 = 4, USER_IP6 = 8, MSG_SRC_IP4 = 40, MSG_SRC_IP6 = 44;
/** struct bpf_sock_addr's `sk` (a __bpf_md_ptr, 8-byte aligned after msg_src_ip6). */
const SOCK_ADDR_SK = 64;
const BPF_FUNC_bind = 64, BPF_FUNC_skc_to_tcp6_sock = 136, BPF_FUNC_skc_to_udp6_sock = 140;
const AF_INET = 2, AF_INET6 = 10;

/** The 32-bit word a little-endian load of these network-order bytes gives. */
function words(bytes: Uint8Array): number[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 4 }, (_, i) => v.getUint32(i * 4, true));
}

function mapped(a: BindAddress): Uint8Array {
  if (a.family === 6) return a.bytes;
  const b = new Uint8Array(16);
  b[10] = 0xff;
  b[11] = 0xff;
  b.set(a.bytes, 12);
  return b;
}

const DENY_ALL: Item[] = [mov64Imm(R0, 0), exit()];

/** What an allowing program returns; a bind program may add "skip the low-port capability check". */
const ALLOW = 1;
export const BPF_RET_BIND_NO_CAP_NET_BIND_SERVICE = 2;

/**
 * Append the two exits, each only if something jumps to it: the verifier refuses a program with
 * unreachable instructions.
 */
function withExits(body: Item[], allow = ALLOW): Item[] {
  const used = (t: string) => body.some((i) => "target" in i && i.target === t);
  return [
    ...body,
    ...(used("allow") ? [label("allow"), mov64Imm(R0, allow), exit()] : []),
    ...(used("deny") ? [label("deny"), mov64Imm(R0, 0), exit()] : []),
  ];
}

/** The value an allowed bind or other call returns. */
export function bindAllow(hook: string, lowPorts?: boolean): number {
  return lowPorts && hook.startsWith("bind") ? ALLOW | BPF_RET_BIND_NO_CAP_NET_BIND_SERVICE : ALLOW;
}

/** w2 == one of the 4-byte addresses → allow; w2 == 0 → rewrite to the first; else deny. */
function check4(field: number, list: BindAddress[]): Item[] {
  if (!list.length) return DENY_ALL;
  return [
    mov64Reg(R6, R1),
    ldx("w", R2, R6, field),
    ...list.map((a) => jeq32(R2, words(a.bytes)[0]!, "allow")),
    jne32(R2, 0, "deny"),
    mov32Imm(R3, words(list[0]!.bytes)[0]!),
    stx("w", R6, field, R3),
    ja("allow"),
  ];
}

/** w2..w5 = the 16-byte field; one of the addresses → allow; not all zero → deny; else fall through. */
function compare6(field: number, list: Uint8Array[]): Item[] {
  const regs = [R2, R3, R4, R5];
  const out: Item[] = [mov64Reg(R6, R1), ...regs.map((r, k) => ldx("w", r, R6, field + 4 * k))];
  list.forEach((b, i) => {
    const w = words(b);
    out.push(jne32(R2, w[0]!, `next${i}`), jne32(R3, w[1]!, `next${i}`), jne32(R4, w[2]!, `next${i}`), jeq32(R5, w[3]!, "allow"), label(`next${i}`));
  });
  out.push(...regs.map((r) => jne32(r, 0, "deny")));
  return out;
}

/** Store these 16 bytes in the field (of the context in r6) and allow. */
function rewrite6(field: number, bytes: Uint8Array): Item[] {
  const out: Item[] = [];
  words(bytes).forEach((w, k) => out.push(mov32Imm(R2, w), stx("w", R6, field + 4 * k, R2)));
  out.push(ja("allow"));
  return out;
}

/** The same as check4 for a 16-byte field. */
function check6(field: number, list: Uint8Array[]): Item[] {
  if (!list.length) return DENY_ALL;
  return [...compare6(field, list), ...rewrite6(field, list[0]!)];
}

/**
 * bind6: a listed address (IPv4 ones mapped) is allowed, any other refused, and `::` rewritten
 * to the first address given, of either family. A dual-stack socket bound to ::ffff:a.b.c.d
 * answers IPv4, which is what a server with one `::` socket (Apache, Go, Node, busybox) needs
 * when the guest's first address is IPv4. A v6-only socket (IPV6_V6ONLY: nginx's `listen [::]:80`
 * and sshd set it, beside their IPv4 socket) cannot take a mapped address (EINVAL), so it gets
 * the first IPv6 address instead. There is no helper that reads the flag, so with `v6onlyBit`
 * (where skc_ipv6only sits in struct sock_common, from the kernel's BTF) the program reads it
 * from the socket itself:
 *   sk = bpf_skc_to_tcp6_sock(ctx->sk) ?: bpf_skc_to_udp6_sock(ctx->sk);
 *   if (sk && sk->__sk_common.skc_ipv6only) { ctx->user_ip6 = FIRST_V6; return 1; }
 *   ctx->user_ip6 = FIRST; return 1;
 * tcp6_sock and udp6_sock both begin with their struct sock, so the offset serves both.
 */
function bind6(addrs: readonly BindAddress[], v6: BindAddress[], v6onlyBit?: number): Item[] {
  if (!addrs.length) return DENY_ALL;
  const first = mapped(addrs[0]!);
  if (v6onlyBit === undefined || !v6.length || addrs[0]!.family === 6) return check6(USER_IP6, addrs.map(mapped));
  return [
    ...compare6(USER_IP6, addrs.map(mapped)),
    ldx("dw", R1, R6, SOCK_ADDR_SK),
    call(BPF_FUNC_skc_to_tcp6_sock),
    jneNull(R0, "sk6"),
    ldx("dw", R1, R6, SOCK_ADDR_SK),
    call(BPF_FUNC_skc_to_udp6_sock),
    jeqNull(R0, "dual"),
    label("sk6"),
    ldx("b", R2, R0, v6onlyBit >> 3),
    and32Imm(R2, 1 << (v6onlyBit & 7)),
    jeq32(R2, 0, "dual"),
    ...rewrite6(USER_IP6, v6[0]!.bytes),
    label("dual"),
    ...rewrite6(USER_IP6, first),
  ];
}

/** bpf_bind(ctx, sockaddr on the stack, len): the socket's source before connect. */
function bindSource(a: BindAddress, family: 4 | 6): Item[] {
  const out: Item[] = [mov64Imm(R7, 0)];
  // Zero the whole sockaddr first: the helper reads all of it and the verifier wants it initialised.
  for (let o = -32; o < 0; o += 8) out.push(stx("dw", R10, o, R7));
  if (family === 4) {
    out.push(mov32Imm(R7, AF_INET), stx("w", R10, -32, R7), mov32Imm(R7, words(a.bytes)[0]!), stx("w", R10, -28, R7));
  } else {
    out.push(mov32Imm(R7, AF_INET6), stx("w", R10, -32, R7));
    words(mapped(a)).forEach((w, k) => out.push(mov32Imm(R7, w), stx("w", R10, -24 + 4 * k, R7)));
  }
  out.push(mov64Reg(R1, R6), mov64Reg(R2, R10), add64Imm(R2, -32), mov64Imm(R3, family === 4 ? 16 : 28), call(BPF_FUNC_bind));
  // The result is ignored: an already bound socket (EINVAL) keeps its allowed address.
  out.push(ja("allow"));
  return out;
}

function connect4(v4: BindAddress[]): Item[] {
  if (!v4.length) return DENY_ALL;
  return [mov64Reg(R6, R1), ...bindSource(v4[0]!, 4)];
}

function connect6(v4: BindAddress[], v6: BindAddress[]): Item[] {
  return [
    mov64Reg(R6, R1),
    ldx("w", R2, R6, USER_IP6),
    ldx("w", R3, R6, USER_IP6 + 4),
    ldx("w", R4, R6, USER_IP6 + 8),
    jne32(R2, 0, "native"),
    jne32(R3, 0, "native"),
    jne32(R4, words(Uint8Array.of(0, 0, 0xff, 0xff))[0]!, "native"),
    ...(v4.length ? bindSource(v4[0]!, 6) : [ja("deny")]),
    label("native"),
    ...(v6.length ? bindSource(v6[0]!, 6) : [ja("deny")]),
  ];
}

/**
 * The programs for these addresses, in the order given on the command line. A wildcard IPv4
 * bind gets the first IPv4 address; an IPv6 `::` bind gets the first address of either family
 * (an IPv4 one as ::ffff:a.b.c.d, which a dual-stack socket accepts), or on a v6-only socket
 * the first IPv6 address when `v6onlyBit` is known (bind6 above).
 *
 * With `lback` (a guest in shared mode), each program first applies the loopback rule
 * (loopback.ts) to the address a bind or connect names, or a sendmsg sends to: 127.0.0.1 is the
 * guest's own lback address, the rest of loopback is refused, and only other addresses meet the
 * rules above. A connection to loopback keeps its loopback source.
 *
 * With `lowPorts` (a guest in a user namespace, whose root's CAP_NET_BIND_SERVICE does not count
 * on the host's stack), an allowed bind also lifts the kernel's check for ports below 1024: only
 * for this cgroup's sockets and only on the addresses the program allowed.
 */
export function sockAddrPrograms(addrs: readonly BindAddress[], opts: { lback?: Uint8Array; lowPorts?: boolean; v6onlyBit?: number } = {}): Program[] {
  const v4 = addrs.filter((a) => a.family === 4);
  const v6 = addrs.filter((a) => a.family === 6);
  // Sends to ::ffff:a.b.c.d go through the IPv4 path and its sendmsg4 hook; sendmsg6 sees only
  // native IPv6 destinations, so only IPv6 sources are allowed there.
  const bodies: Record<HookName, Item[]> = {
    bind4: check4(USER_IP4, v4),
    bind6: bind6(addrs, v6, opts.v6onlyBit),
    connect4: connect4(v4),
    connect6: connect6(v4, v6),
    sendmsg4: check4(MSG_SRC_IP4, v4),
    sendmsg6: check6(MSG_SRC_IP6, v6.map((a) => a.bytes)),
  };
  const lb = opts.lback && word(opts.lback);
  const prelude = (name: HookName): Item[] => {
    if (lb === undefined) return [];
    const six = name.endsWith("6");
    return [...(six ? loopback6(USER_IP6, lb, "guest") : loopback4(USER_IP4, lb, "guest")), label("guest")];
  };
  return (Object.keys(ATTACH) as HookName[]).map((name) => ({
    name,
    progType: BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
    attachType: ATTACH[name],
    code: assemble(withExits([...prelude(name), ...bodies[name]], bindAllow(name, opts.lowPorts))),
  }));
}

// The cgroup socket programs of a guest that shares the host's network stack (no interfaces/):
// they keep it away from the host's local services, which otherwise trust every local process.
//
// - Loopback (util-vserver's `lback`): 127.0.0.1 in the guest is the guest's own address in
//   127.0.0.0/8 (lbackAddress below). bind, connect and UDP sendmsg to 127.0.0.1 are rewritten to
//   it, to the guest's own lback address are allowed, to the rest of 127.0.0.0/8 refused; ::1
//   is refused (there is only one IPv6 loopback address, so it cannot be split). recvmsg,
//   getpeername and getsockname show the lback address as 127.0.0.1 again, so resolvers and
//   services that check "is it 127.0.0.1" keep working.
// - Abstract unix sockets: connect and sendmsg to a name in the abstract namespace (which is per
//   network namespace, so the host's) are refused; path names go through the guest's own file
//   system and stay allowed. Needs the unix hooks of Linux 6.7 and a kfunc to read the address.
// - Raw inet sockets (a guest given CAP_NET_RAW) are refused: raw packets to 127.0.0.1 would pass
//   no connect hook.
//
// Each builder below carries the program as C in its comment; the instructions follow it line by
// line. Sockets the guest creates are judged by these programs whatever namespace the guest is in,
// because a socket's cgroup is fixed when it is created.

import {
  assemble, callKfunc, exit, ja, jeq32, jgt32, jne32, label, ldx, mov32Imm, mov64Imm, mov64Reg, stx,
  R0, R1, R2, R3, R4, R5, R6, type Item,
} from "./insn";
import { LOCALHOST, MAPPED_PREFIX, loopback4, loopback6, word } from "./loopback";

export { lbackAddress } from "./loopback";
import { BPF_PROG_TYPE_CGROUP_SOCK_ADDR, bindAllow, sockAddrPrograms, ATTACH, type HookName } from "./sock-addr-programs";
import type { BindAddress } from "./addresses";

export const BPF_PROG_TYPE_CGROUP_SOCK = 9;

/** Attach types (enum bpf_attach_type, linux/bpf.h): chbind's, and the ones only guests need. */
export const HOST_STACK_ATTACH = {
  ...ATTACH,
  sock_create: 2,
  recvmsg4: 19,
  recvmsg6: 20,
  getpeername4: 29,
  getpeername6: 30,
  getsockname4: 31,
  getsockname6: 32,
  connect_unix: 49,
  sendmsg_unix: 50,
} as const;

export type HostStackHook = keyof typeof HOST_STACK_ATTACH;

/** What the unix programs need from the running kernel's BTF (drivers/bpf/kernel-btf.ts). */
export interface HostStackProgram {
  name: HostStackHook;
  progType: number;
  attachType: number;
  /** Encoded instructions, 8 bytes each. */
  code: Uint8Array;
}

export interface UnixHookFacts {
  /** BTF id of the kfunc bpf_cast_to_kern_ctx. */
  castToKernCtx: number;
  /** Offsets in struct bpf_sock_addr_kern. */
  uaddrOffset: number;
  uaddrlenOffset: number;
}

// struct bpf_sock_addr and struct bpf_sock (linux/bpf.h): every field a __u32.
const USER_IP4 = 4, USER_IP6 = 8;
const SOCK_TYPE = 8, SOCK_RAW = 3;
/** offsetof(struct sockaddr_un, sun_path): a shorter address has no name at all. */
const SUN_PATH = 2;

const ALLOW = [label("allow"), mov64Imm(R0, 1), exit()];
const DENY = [label("deny"), mov64Imm(R0, 0), exit()];

/** bind4, connect4, sendmsg4 (the destination for the last two): the loopback rule, else allowed. */
function inet4(lback: number, allow = 1): Item[] {
  return [...loopback4(USER_IP4, lback, "allow"), label("allow"), mov64Imm(R0, allow), exit(), ...DENY];
}

/** bind6, connect6, sendmsg6: the same, with ::1 refused. */
function inet6(lback: number, allow = 1): Item[] {
  return [...loopback6(USER_IP6, lback, "allow"), label("allow"), mov64Imm(R0, allow), exit(), ...DENY];
}

/** recvmsg4, getpeername4, getsockname4 (must return 1): if (ctx->user_ip4 == LBACK) ctx->user_ip4 = 127.0.0.1; */
function reverse4(lback: number): Item[] {
  return [
    mov64Reg(R6, R1), ldx("w", R2, R6, USER_IP4), jne32(R2, lback, "allow"),
    mov32Imm(R3, LOCALHOST), stx("w", R6, USER_IP4, R3),
    ...ALLOW,
  ];
}

/** recvmsg6, getpeername6, getsockname6: the same for ::ffff:LBACK. */
function reverse6(lback: number): Item[] {
  return [
    mov64Reg(R6, R1),
    ldx("w", R2, R6, USER_IP6), ldx("w", R3, R6, USER_IP6 + 4), ldx("w", R4, R6, USER_IP6 + 8), ldx("w", R5, R6, USER_IP6 + 12),
    jne32(R2, 0, "allow"), jne32(R3, 0, "allow"), jne32(R4, MAPPED_PREFIX, "allow"), jne32(R5, lback, "allow"),
    mov32Imm(R3, LOCALHOST), stx("w", R6, USER_IP6 + 12, R3),
    ...ALLOW,
  ];
}

/**
 * connect_unix, sendmsg_unix:
 *   struct bpf_sock_addr_kern *sa = bpf_cast_to_kern_ctx(ctx);
 *   if (sa->uaddrlen <= offsetof(struct sockaddr_un, sun_path)) return 1;   // no name
 *   if (((struct sockaddr *)sa->uaddr)->sa_data[0] == 0) return 0;          // abstract
 *   return 1;                                                                // a path
 */
function unixAbstract(f: UnixHookFacts): Item[] {
  return [
    callKfunc(f.castToKernCtx),
    ldx("w", R2, R0, f.uaddrlenOffset),
    jgt32(R2, SUN_PATH, "named"),
    ja("allow"),
    label("named"),
    ldx("dw", R3, R0, f.uaddrOffset),
    ldx("b", R4, R3, SUN_PATH),
    jeq32(R4, 0, "deny"),
    ja("allow"),
    ...ALLOW, ...DENY,
  ];
}

/** sock_create: if (ctx->type == SOCK_RAW) return 0; return 1; (the hook sees inet sockets only) */
function noRaw(): Item[] {
  return [ldx("w", R2, R1, SOCK_TYPE), jeq32(R2, SOCK_RAW, "deny"), ja("allow"), ...ALLOW, ...DENY];
}

/**
 * The programs for a guest on the host's stack with this lback address. Without `unix` (a
 * kernel before 6.7, or without BTF) the unix programs are left out; the caller says so. With
 * `lowPorts`, allowed binds also skip the kernel's check for ports below 1024 (sockAddrPrograms).
 */
export function hostStackPrograms(lback: Uint8Array, unix?: UnixHookFacts, opts: { lowPorts?: boolean } = {}): HostStackProgram[] {
  const lb = word(lback);
  const bind = bindAllow("bind", opts.lowPorts);
  const bodies: Partial<Record<HostStackHook, Item[]>> = {
    sock_create: noRaw(),
    bind4: inet4(lb, bind), connect4: inet4(lb), sendmsg4: inet4(lb),
    bind6: inet6(lb, bind), connect6: inet6(lb), sendmsg6: inet6(lb),
    recvmsg4: reverse4(lb), getpeername4: reverse4(lb), getsockname4: reverse4(lb),
    recvmsg6: reverse6(lb), getpeername6: reverse6(lb), getsockname6: reverse6(lb),
    ...(unix ? { connect_unix: unixAbstract(unix), sendmsg_unix: unixAbstract(unix) } : {}),
  };
  return (Object.keys(bodies) as HostStackHook[]).map((name) => ({
    name,
    progType: name === "sock_create" ? BPF_PROG_TYPE_CGROUP_SOCK : BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
    attachType: HOST_STACK_ATTACH[name],
    code: assemble(bodies[name]!),
  }));
}

export type SharedProgram = HostStackProgram | (Omit<HostStackProgram, "name"> & { name: HookName });

/**
 * A guest in shared mode: chbind's programs bind it to its addresses (each preceded by the
 * loopback rule), and the rest of the host-stack set (replies from lback, unix, raw) as above.
 */
export function sharedPrograms(addrs: readonly BindAddress[], lback: Uint8Array, unix?: UnixHookFacts, opts: { lowPorts?: boolean; v6onlyBit?: number } = {}): SharedProgram[] {
  const bound = sockAddrPrograms(addrs, { lback, lowPorts: opts.lowPorts, v6onlyBit: opts.v6onlyBit });
  return [...hostStackPrograms(lback, unix).filter((p) => !(p.name in ATTACH)), ...bound];
}

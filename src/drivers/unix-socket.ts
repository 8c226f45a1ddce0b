// Unix stream sockets that carry descriptors: the host service's socket, whose clients hand over
// their standard descriptors with SCM_RIGHTS, so that a command served by the service reads and
// writes the caller's own terminal, files and pipes with no relay in between; and the guest
// init's exec socket, to which exec hands the command's. Neither Node nor Bun can
// listen on a socket whose descriptor other processes share, receive descriptors, or read a
// peer's credentials, so these calls go to the C library through koffi. Structs are laid out by
// hand in Buffers (x86_64 and arm64 share the LP64 layout used here).

import { closeSync } from "node:fs";
import { NoSpaceError, ToolError } from "../errors";
import { libc } from "./libc";

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOCK_NONBLOCK = 0o4000;
const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
const SCM_RIGHTS = 1;
const POLLIN = 1;
const ENOSPC = 28;
const EDQUOT = 122;
const SUN_PATH_MAX = 108;

type Fn = (...a: unknown[]) => unknown;
const NAMES = ["socket", "bind", "listen", "accept4", "getsockopt", "recvmsg", "poll", "dup2", "fcntl", "setpgid", "connect", "sendmsg"] as const;
let fns: Record<(typeof NAMES)[number], Fn> | undefined;

function c() {
  const l = libc();
  fns ??= {
    socket: l.func("int socket(int, int, int)"),
    bind: l.func("int bind(int, void *, uint32_t)"),
    listen: l.func("int listen(int, int)"),
    accept4: l.func("int accept4(int, void *, void *, int)"),
    getsockopt: l.func("int getsockopt(int, int, int, void *, void *)"),
    recvmsg: l.func("intptr_t recvmsg(int, void *, int)"),
    poll: l.func("int poll(void *, uint64_t, int)"),
    dup2: l.func("int dup2(int, int)"),
    fcntl: l.func("int fcntl(int, int, int)"),
    setpgid: l.func("int setpgid(int, int)"),
    connect: l.func("int connect(int, void *, uint32_t)"),
    sendmsg: l.func("intptr_t sendmsg(int, void *, int)"),
  };
  return { ...fns, errno: l.errno, address: (b: Buffer) => BigInt(l.koffi.address(b)) };
}

function fail(what: string): never {
  throw new ToolError(`${what} failed (errno ${c().errno()}).`);
}

function sockaddr(path: string): Buffer {
  const p = Buffer.from(path);
  if (p.length >= SUN_PATH_MAX) throw new ToolError(`the socket path ${path} is longer than a unix socket address allows.`);
  const a = Buffer.alloc(2 + SUN_PATH_MAX);
  a.writeUInt16LE(AF_UNIX, 0);
  p.copy(a, 2);
  return a;
}

/**
 * A listening socket at path (which must not exist), to be shared with the workers (not
 * close-on-exec). Non-blocking: every waiting worker wakes for a connection and all but one find
 * nothing to accept, which must send them back to waiting rather than block them in accept.
 */
export function listenUnix(path: string, backlog = 128): number {
  const f = c();
  const fd = f.socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0) as number;
  if (fd < 0) fail("socket");
  const a = sockaddr(path);
  if ((f.bind(fd, a, a.length) as number) < 0) {
    const e = f.errno();
    closeSync(fd);
    if (e === ENOSPC || e === EDQUOT) throw new NoSpaceError(`cannot make the socket ${path}: no space left on its file system.`, { file: path });
    throw new ToolError(`cannot bind the socket ${path} (errno ${e}).`);
  }
  if ((f.listen(fd, backlog) as number) < 0) fail("listen");
  return fd;
}

/** A connection to the socket at path (close-on-exec, blocking), or undefined when nobody listens there. */
export function connectUnix(path: string): number | undefined {
  const f = c();
  const fd = f.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) as number;
  if (fd < 0) fail("socket");
  const a = sockaddr(path);
  if ((f.connect(fd, a, a.length) as number) < 0) {
    closeSync(fd);
    return undefined;
  }
  return fd;
}

/** Send all of data, the descriptors attached to its first bytes. */
export function sendWithFds(fd: number, data: Buffer, fds: number[]): void {
  const f = c();
  const control = Buffer.alloc(16 + 8 * Math.ceil((4 * fds.length) / 8));
  control.writeBigUInt64LE(BigInt(16 + 4 * fds.length), 0);
  control.writeInt32LE(SOL_SOCKET, 8);
  control.writeInt32LE(SCM_RIGHTS, 12);
  fds.forEach((d, i) => control.writeInt32LE(d, 16 + 4 * i));
  let off = 0;
  while (off < data.length) {
    // A buffer of its own: a pooled Buffer's memory starts at an offset into a shared one.
    const rest = Buffer.alloc(data.length - off);
    data.copy(rest, 0, off);
    const iov = Buffer.alloc(16);
    iov.writeBigUInt64LE(f.address(rest), 0);
    iov.writeBigUInt64LE(BigInt(rest.length), 8);
    const msg = Buffer.alloc(56);
    msg.writeBigUInt64LE(f.address(iov), 16);
    msg.writeBigUInt64LE(1n, 24);
    if (off === 0 && fds.length) {
      msg.writeBigUInt64LE(f.address(control), 32);
      msg.writeBigUInt64LE(BigInt(control.length), 40);
    }
    const MSG_NOSIGNAL = 0x4000;
    const n = Number(f.sendmsg(fd, msg, MSG_NOSIGNAL));
    if (n < 0) {
      if (f.errno() === 4) continue; // EINTR
      fail("sendmsg");
    }
    off += n;
  }
}

/**
 * Wait, without blocking the event loop, until fd is readable or hung up: true; false on timeout.
 * A signal that interrupts the wait (it may be delivered to the thread that waits) waits again.
 * Each pending wait holds a thread of koffi's pool, which has as many threads as the host has
 * cores: on a 2-core host a third concurrent wait never starts, even after its timeout. Keep to
 * one wait at a time per process (drivers/stdio-relay.ts copies with processes for this reason).
 */
export async function whenReadable(fd: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = timeoutMs < 0 ? -1 : Math.max(0, deadline - Date.now());
    const n = await pollOnce(fd, left);
    if (n >= 0) return n > 0;
  }
}

function pollOnce(fd: number, timeoutMs: number): Promise<number> {
  const f = c();
  const b = Buffer.alloc(8);
  b.writeInt32LE(fd, 0);
  b.writeInt16LE(POLLIN, 4);
  return new Promise((resolve) => {
    (f.poll as unknown as { async: (...a: unknown[]) => void }).async(b, 1, timeoutMs, (_err: unknown, n: number) => resolve(n));
  });
}

/** Wait until one of the descriptors is readable (or hung up); returns their indexes. */
export function pollReadable(fds: number[], timeoutMs: number): number[] {
  const f = c();
  const b = Buffer.alloc(8 * fds.length);
  fds.forEach((fd, i) => {
    b.writeInt32LE(fd, i * 8);
    b.writeInt16LE(POLLIN, i * 8 + 4);
  });
  const n = f.poll(b, fds.length, timeoutMs) as number;
  if (n < 0) return [];
  return fds.map((_, i) => i).filter((i) => b.readInt16LE(i * 8 + 6) !== 0);
}

/** The next connection, close-on-exec; -1 when none was waiting (another worker took it). */
export function acceptConnection(listenFd: number): number {
  return c().accept4(listenFd, null, null, SOCK_CLOEXEC) as number;
}

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/** Who is at the other end, as the kernel recorded it at connect. */
export function peerCredentials(fd: number): PeerCredentials {
  const f = c();
  const cred = Buffer.alloc(12);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(12, 0);
  if ((f.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, len) as number) < 0) fail("getsockopt(SO_PEERCRED)");
  return { pid: cred.readInt32LE(0), uid: cred.readUInt32LE(4), gid: cred.readUInt32LE(8) };
}

export interface Received {
  data: Buffer;
  fds: number[];
}

/** One recvmsg: up to maxBytes of data, and the descriptors that came with them. */
export function receiveWithFds(fd: number, maxBytes: number, maxFds = 8): Received {
  const f = c();
  const data = Buffer.alloc(maxBytes);
  const iov = Buffer.alloc(16);
  iov.writeBigUInt64LE(f.address(data), 0);
  iov.writeBigUInt64LE(BigInt(maxBytes), 8);
  const controlLen = 16 + 8 * Math.ceil((4 * maxFds) / 8);
  const control = Buffer.alloc(controlLen);
  // struct msghdr: name, namelen (+pad), iov, iovlen, control, controllen, flags (+pad).
  const msg = Buffer.alloc(56);
  msg.writeBigUInt64LE(f.address(iov), 16);
  msg.writeBigUInt64LE(1n, 24);
  msg.writeBigUInt64LE(f.address(control), 32);
  msg.writeBigUInt64LE(BigInt(controlLen), 40);
  const MSG_CMSG_CLOEXEC = 0x40000000;
  const n = Number(f.recvmsg(fd, msg, MSG_CMSG_CLOEXEC));
  if (n < 0) fail("recvmsg");
  const fds: number[] = [];
  const used = Number(msg.readBigUInt64LE(40));
  for (let off = 0; off + 16 <= used; ) {
    const len = Number(control.readBigUInt64LE(off));
    if (len < 16) break;
    if (control.readInt32LE(off + 8) === SOL_SOCKET && control.readInt32LE(off + 12) === SCM_RIGHTS) {
      for (let p = off + 16; p + 4 <= off + len; p += 4) fds.push(control.readInt32LE(p));
    }
    off += 8 * Math.ceil(len / 8);
  }
  return { data: data.subarray(0, n), fds };
}

/** Make `to` a copy of `from` (the standard descriptors of a served command). */
export function duplicateOnto(from: number, to: number): void {
  if ((c().dup2(from, to) as number) < 0) fail(`dup2(${from}, ${to})`);
}

const F_DUPFD_CLOEXEC = 1030;

/** A copy of fd at the lowest free number from `min` up, closed on exec. */
export function duplicateAbove(fd: number, min: number): number {
  const n = c().fcntl(fd, F_DUPFD_CLOEXEC, min) as number;
  if (n < 0) fail(`fcntl(${fd}, F_DUPFD_CLOEXEC)`);
  return n;
}

/** A process group of our own, so that a signal to the group reaches our children too. */
export function newProcessGroup(): void {
  c().setpgid(0, 0);
}

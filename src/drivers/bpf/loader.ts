// Loading eBPF programs and attaching them to a cgroup2 directory with the bpf() system call,
// called through koffi: no libbpf, bpftool or bpffs (feasibility §1.5). After the attach the
// program fd is closed; the attachment keeps the program alive until the cgroup is removed.

import { closeSync, constants, openSync } from "node:fs";
import { ToolError } from "../../errors";
import { libc } from "../libc";

const SYS_bpf = process.arch === "arm64" ? 280 : 321;
const BPF_MAP_CREATE = 0;
const BPF_MAP_LOOKUP_ELEM = 1;
const BPF_MAP_DELETE_ELEM = 3;
const BPF_PROG_LOAD = 5;
const BPF_OBJ_PIN = 6;
const BPF_OBJ_GET = 7;
const BPF_PROG_ATTACH = 8;
const BPF_RAW_TRACEPOINT_OPEN = 17;
const BPF_F_ALLOW_MULTI = 2;
const ATTR_SIZE = 144;
const O_DIRECTORY = 0o200000;

export interface LoadableProgram {
  name: string;
  progType: number;
  attachType: number;
  code: Uint8Array;
}

/** koffi costs ~15 ms to load: only chbind pays it, when it gets this far. */
function lib() {
  const c = libc();
  return { syscall: c.syscall, errno: c.errno, address: (b: Uint8Array) => BigInt(c.koffi.address(b)) };
}

function bpf(cmd: number, attr: Buffer): { ret: number; errno: number } {
  const { syscall, errno } = lib();
  const ret = syscall(SYS_bpf, "int", cmd, "void *", attr, "uint", ATTR_SIZE);
  return { ret, errno: ret < 0 ? errno() : 0 };
}

const ERRNO: Record<number, string> = { 1: "EPERM", 7: "E2BIG", 9: "EBADF", 13: "EACCES", 22: "EINVAL", 38: "ENOSYS", 95: "EOPNOTSUPP" };

/** Load one program; on a verifier refusal the error carries the verifier's last lines. */
export function loadProgram(p: LoadableProgram): number {
  const { address } = lib();
  const insns = Buffer.from(p.code);
  const license = Buffer.from("GPL\0");
  const attempt = (logBuf?: Buffer) => {
    const attr = Buffer.alloc(ATTR_SIZE);
    attr.writeUInt32LE(p.progType, 0);
    attr.writeUInt32LE(p.code.length / 8, 4);
    attr.writeBigUInt64LE(address(insns), 8);
    attr.writeBigUInt64LE(address(license), 16);
    if (logBuf) {
      attr.writeUInt32LE(1, 24);
      attr.writeUInt32LE(logBuf.length, 28);
      attr.writeBigUInt64LE(address(logBuf), 32);
    }
    attr.write(p.name.slice(0, 15), 48, "latin1");
    attr.writeUInt32LE(p.attachType, 68);
    return bpf(BPF_PROG_LOAD, attr);
  };
  const first = attempt();
  if (first.ret >= 0) return first.ret;
  // Only on failure: ask again with a log, so the message says what the verifier disliked.
  const log = Buffer.alloc(64 * 1024);
  const again = attempt(log);
  if (again.ret >= 0) return again.ret;
  const text = log.toString("latin1", 0, Math.max(0, log.indexOf(0))).trim().split("\n").slice(-3).join(" / ");
  const why = first.errno === 1 || first.errno === 13 ? "not allowed (chbind needs root: CAP_BPF and CAP_NET_ADMIN)" : ERRNO[first.errno] ?? `errno ${first.errno}`;
  throw new ToolError(`the kernel refused the ${p.name} program: ${why}${text ? ` (${text})` : ""}.`);
}

/** Attach alongside anything else on the cgroup (ALLOW_MULTI), so we never replace others' programs. */
export function attachProgram(cgroupDir: string, progFd: number, p: LoadableProgram): void {
  const cg = openSync(cgroupDir, constants.O_RDONLY | O_DIRECTORY);
  try {
    const attr = Buffer.alloc(ATTR_SIZE);
    attr.writeUInt32LE(cg, 0);
    attr.writeUInt32LE(progFd, 4);
    attr.writeUInt32LE(p.attachType, 8);
    attr.writeUInt32LE(BPF_F_ALLOW_MULTI, 12);
    const r = bpf(BPF_PROG_ATTACH, attr);
    if (r.ret < 0) throw new ToolError(`cannot attach the ${p.name} program to ${cgroupDir}: ${ERRNO[r.errno] ?? `errno ${r.errno}`}.`);
  } finally {
    closeSync(cg);
  }
}

/** Load and attach every program; the fds are closed whatever happens. */
export function loadAndAttach(cgroupDir: string, programs: readonly LoadableProgram[]): void {
  for (const p of programs) {
    const fd = loadProgram(p);
    try {
      attachProgram(cgroupDir, fd, p);
    } finally {
      closeSync(fd);
    }
  }
}

/** A new map; its fd is the caller's to close. */
export function createMap(mapType: number, keySize: number, valueSize: number, maxEntries: number, name: string): number {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(mapType, 0);
  attr.writeUInt32LE(keySize, 4);
  attr.writeUInt32LE(valueSize, 8);
  attr.writeUInt32LE(maxEntries, 12);
  attr.write(name.slice(0, 15), 28, "latin1");
  const r = bpf(BPF_MAP_CREATE, attr);
  if (r.ret < 0) throw new ToolError(`the kernel refused the ${name} map: ${ERRNO[r.errno] ?? `errno ${r.errno}`}.`);
  return r.ret;
}

/** Attach a raw tracepoint program; the returned link fd keeps it attached (pin it to outlive us). */
export function openRawTracepoint(progFd: number, tracepoint: string): number {
  const { address } = lib();
  const name = Buffer.from(tracepoint + "\0");
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeBigUInt64LE(address(name), 0);
  attr.writeUInt32LE(progFd, 8);
  const r = bpf(BPF_RAW_TRACEPOINT_OPEN, attr);
  if (r.ret < 0) throw new ToolError(`cannot attach a program to the tracepoint ${tracepoint}: ${ERRNO[r.errno] ?? `errno ${r.errno}`}.`);
  return r.ret;
}

/** Pin a map, program or link at `path` in a bpf file system, where it lives without any process. */
export function pinObject(fd: number, path: string): void {
  const { address } = lib();
  const p = Buffer.from(path + "\0");
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeBigUInt64LE(address(p), 0);
  attr.writeUInt32LE(fd, 8);
  const r = bpf(BPF_OBJ_PIN, attr);
  if (r.ret < 0) throw new ToolError(`cannot pin a bpf object at ${path}: ${ERRNO[r.errno] ?? `errno ${r.errno}`}.`);
}

/** An fd for what is pinned at `path`, or undefined when nothing is. */
export function openPinned(path: string): number | undefined {
  const { address } = lib();
  const p = Buffer.from(path + "\0");
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeBigUInt64LE(address(p), 0);
  const r = bpf(BPF_OBJ_GET, attr);
  return r.ret < 0 ? undefined : r.ret;
}

/** The value stored under `key`, or undefined. */
export function mapLookup(mapFd: number, key: Uint8Array, valueSize: number): Buffer | undefined {
  const { address } = lib();
  const value = Buffer.alloc(valueSize);
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(mapFd, 0);
  attr.writeBigUInt64LE(address(key), 8);
  attr.writeBigUInt64LE(address(value), 16);
  return bpf(BPF_MAP_LOOKUP_ELEM, attr).ret < 0 ? undefined : value;
}

export function mapDelete(mapFd: number, key: Uint8Array): void {
  const { address } = lib();
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(mapFd, 0);
  attr.writeBigUInt64LE(address(key), 8);
  bpf(BPF_MAP_DELETE_ELEM, attr);
}

// Extended attributes and device nodes, which Node and Bun have no calls for, through the C
// library. Every call works on the link itself (the l* variants): a guest's tree is never
// followed through its symlinks.

import { libc } from "../libc";

interface XattrCalls {
  list: (path: string, buf: Buffer | null, size: number) => number;
  get: (path: string, name: string, buf: Buffer | null, size: number) => number;
  set: (path: string, name: string, value: Buffer, size: number, flags: number) => number;
  mknod: (path: string, mode: number, dev: bigint) => number;
  remove: (path: string, name: string) => number;
  flist: (fd: number, buf: Buffer | null, size: number) => number;
  fget: (fd: number, name: string, buf: Buffer | null, size: number) => number;
  fset: (fd: number, name: string, value: Buffer, size: number, flags: number) => number;
}

let calls: XattrCalls | undefined;

function c(): XattrCalls {
  if (calls) return calls;
  const l = libc();
  calls = {
    list: l.func("long llistxattr(const char *path, _Out_ uint8_t *list, size_t size)") as XattrCalls["list"],
    get: l.func("long lgetxattr(const char *path, const char *name, _Out_ uint8_t *value, size_t size)") as XattrCalls["get"],
    set: l.func("int lsetxattr(const char *path, const char *name, const uint8_t *value, size_t size, int flags)") as XattrCalls["set"],
    mknod: l.func("int mknod(const char *path, uint32_t mode, uint64_t dev)") as XattrCalls["mknod"],
    remove: l.func("int lremovexattr(const char *path, const char *name)") as XattrCalls["remove"],
    flist: l.func("long flistxattr(int fd, _Out_ uint8_t *list, size_t size)") as XattrCalls["flist"],
    fget: l.func("long fgetxattr(int fd, const char *name, _Out_ uint8_t *value, size_t size)") as XattrCalls["fget"],
    fset: l.func("int fsetxattr(int fd, const char *name, const uint8_t *value, size_t size, int flags)") as XattrCalls["fset"],
  };
  return calls;
}

export class XattrError extends Error {
  constructor(readonly op: string, readonly path: string, readonly errno: number) {
    super(`${op} ${path}: errno ${errno}`);
  }
}

const ENODATA = 61;
const ENOTSUP = 95;

/** A file named by its path (never following a final link) or by an open descriptor. */
export type XattrTarget = string | number;

function where(t: XattrTarget): string {
  return typeof t === "number" ? `/proc/self/fd/${t}` : t;
}

function list(t: XattrTarget, buf: Buffer | null, size: number): number {
  return Number(typeof t === "number" ? c().flist(t, buf, size) : c().list(t, buf, size));
}

function get(t: XattrTarget, name: string, buf: Buffer | null, size: number): number {
  return Number(typeof t === "number" ? c().fget(t, name, buf, size) : c().get(t, name, buf, size));
}

/** Names of a file's extended attributes; none where the file system has none. */
export function listXattrs(t: XattrTarget): string[] {
  const n = list(t, null, 0);
  if (n < 0) {
    const e = libc().errno();
    if (e === ENOTSUP) return [];
    throw new XattrError("listxattr", where(t), e);
  }
  if (n === 0) return [];
  const buf = Buffer.alloc(n);
  const got = list(t, buf, n);
  if (got < 0) throw new XattrError("listxattr", where(t), libc().errno());
  return buf.subarray(0, got).toString("latin1").split("\0").filter(Boolean);
}

export function getXattr(t: XattrTarget, name: string): Buffer | undefined {
  const n = get(t, name, null, 0);
  if (n < 0) {
    const e = libc().errno();
    if (e === ENODATA) return undefined;
    throw new XattrError(`getxattr ${name}`, where(t), e);
  }
  const buf = Buffer.alloc(n);
  const got = n ? get(t, name, buf, n) : 0;
  if (got < 0) throw new XattrError(`getxattr ${name}`, where(t), libc().errno());
  return buf.subarray(0, got);
}

export function setXattr(t: XattrTarget, name: string, value: Buffer): void {
  const r = typeof t === "number" ? c().fset(t, name, value, value.length, 0) : c().set(t, name, value, value.length, 0);
  if (Number(r) !== 0) throw new XattrError(`setxattr ${name}`, where(t), libc().errno());
}

/** Remove an attribute; one that is not there is no error. */
export function removeXattr(path: string, name: string): void {
  if (Number(c().remove(path, name)) !== 0 && libc().errno() !== ENODATA) throw new XattrError(`removexattr ${name}`, path, libc().errno());
}

/** A device node, FIFO or socket with the mode (type bits included) and device number of `rdev`. */
export function makeNode(path: string, mode: number, rdev: number): void {
  if (Number(c().mknod(path, mode, BigInt(rdev))) !== 0) throw new XattrError("mknod", path, libc().errno());
}

export { ENOTSUP };

// A file's inode flags (immutable, append-only) through FS_IOC_GETFLAGS / FS_IOC_SETFLAGS, the
// calls chattr and lsattr make, on a descriptor opened without following a final link.

import { closeSync, constants, openSync } from "node:fs";
import { libc } from "./libc";

export const FS_IMMUTABLE_FL = 0x10;
export const FS_APPEND_FL = 0x20;

const FS_IOC_GETFLAGS = 0x80086601;
const FS_IOC_SETFLAGS = 0x40086602;

let ioctl: ((fd: number, req: number, arg: Int32Array) => number) | undefined;

function call(): (fd: number, req: number, arg: Int32Array) => number {
  ioctl ??= libc().func("int ioctl(int fd, unsigned long req, _Inout_ int *arg)") as (fd: number, req: number, arg: Int32Array) => number;
  return ioctl;
}

export class InodeFlagsError extends Error {
  constructor(readonly path: string, readonly errno: number) {
    super(`${path}: errno ${errno}`);
  }
}

function withFile<T>(path: string, f: (fd: number) => T): T {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    return f(fd);
  } finally {
    closeSync(fd);
  }
}

export function getFlags(path: string): number {
  return withFile(path, (fd) => {
    const v = new Int32Array(1);
    if (call()(fd, FS_IOC_GETFLAGS, v) !== 0) throw new InodeFlagsError(path, libc().errno());
    return v[0]!;
  });
}

/** Set the bits of `set` and clear those of `clear`, leaving the others as they are. */
export function changeFlags(path: string, set: number, clear: number): void {
  withFile(path, (fd) => {
    const v = new Int32Array(1);
    if (call()(fd, FS_IOC_GETFLAGS, v) !== 0) throw new InodeFlagsError(path, libc().errno());
    v[0] = (v[0]! | set) & ~clear;
    if (call()(fd, FS_IOC_SETFLAGS, v) !== 0) throw new InodeFlagsError(path, libc().errno());
  });
}

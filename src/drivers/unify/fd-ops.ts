// File operations on open descriptors that Node and Bun lack, for walking a guest's tree and
// filling the store without a path lookup per call: openat(2) below a directory descriptor (no
// /proc/self/fd/N/NAME magic link to resolve each time, and never a link followed), a reflink
// of one open file onto another (FICLONE), with a plain copy where the file systems cannot share
// blocks (a source on an overlay, a file system without reflinks), and a file made without a
// name (O_TMPFILE) that gets one, whole, in one step (linkat).

import { readSync, writeSync } from "node:fs";
import { libc } from "../libc";

const SYS_openat = process.arch === "arm64" ? 56 : 257;
const SYS_linkat = process.arch === "arm64" ? 37 : 265;
const O_WRONLY = 0o1;
/** __O_TMPFILE | O_DIRECTORY */
const O_TMPFILE = 0o20200000;
const AT_EMPTY_PATH = 0x1000;
const O_NOFOLLOW = 0o400000;
const O_CLOEXEC = 0o2000000;
const O_NONBLOCK = 0o4000;
const O_DIRECTORY = 0o200000;
/** The current directory, for a path that is not relative to a directory descriptor. */
export const AT_FDCWD = -100;
/** _IOW(0x94, 9, int) */
const FICLONE = 0x40049409;

type Ioctl = (dst: number, req: number, src: number) => number;
let ficlone: Ioctl | undefined;

const ERRNO_NAMES: Record<number, string> = { 2: "ENOENT", 17: "EEXIST", 20: "ENOTDIR", 28: "ENOSPC", 40: "ELOOP", 122: "EDQUOT" };

/** A failed call, with the errno's name as `code` where Node would give one (a full disk is told apart by it). */
export class FdOpError extends Error {
  readonly code: string;
  constructor(readonly op: string, readonly path: string, readonly errno: number) {
    super(`${op} ${path}: errno ${errno}`);
    this.code = ERRNO_NAMES[errno] ?? `E${errno}`;
  }
}

function openAt(dirFd: number, name: string, flags: number, what: string): number {
  const { syscall, errno } = libc();
  const fd = syscall(SYS_openat, "int", dirFd, "str", name, "int", flags | O_NOFOLLOW | O_CLOEXEC, "int", 0);
  if (fd < 0) throw new FdOpError(`open ${what}`, `/proc/self/fd/${dirFd}/${name}`, errno());
  return fd;
}

/** A regular file named `name` in the directory open as `dirFd`, for reading; a link there is an error (ELOOP). */
export function openFileAt(dirFd: number, name: string): number {
  return openAt(dirFd, name, O_NONBLOCK, "file");
}

/** A directory named `name` in the directory open as `dirFd`; a link there is an error (ELOOP or ENOTDIR). */
export function openDirAt(dirFd: number, name: string): number {
  return openAt(dirFd, name, O_DIRECTORY, "directory");
}

/**
 * The content of the open file `src` (of `size` bytes) into the empty open file `dst`: a
 * reflink where the file system can (the same blocks, nothing copied), else a copy through `buf`.
 */
export function cloneOrCopy(src: number, dst: number, size: number, buf: Buffer): void {
  ficlone ??= libc().func("int ioctl(int fd, unsigned long req, int src)") as Ioctl;
  if (Number(ficlone(dst, FICLONE, src)) === 0) return;
  for (let pos = 0; pos < size; ) {
    const n = readSync(src, buf, 0, buf.length, pos);
    if (n <= 0) break;
    for (let off = 0; off < n; ) off += writeSync(dst, buf, off, n - off, pos + off);
    pos += n;
  }
}

/** A new regular file without a name in the directory `dir` (it vanishes unless linked: linkAs). */
export function openNameless(dir: string, mode: number): number {
  const { syscall, errno } = libc();
  const fd = syscall(SYS_openat, "int", AT_FDCWD, "str", dir, "int", O_TMPFILE | O_WRONLY | O_CLOEXEC, "int", mode);
  if (fd < 0) throw new FdOpError("open a nameless file in", dir, errno());
  return fd;
}

/** Give the nameless open file `fd` the name `path`; a name already there is an error (EEXIST). */
export function linkAs(fd: number, path: string): void {
  const { syscall, errno } = libc();
  if (syscall(SYS_linkat, "int", fd, "str", "", "int", AT_FDCWD, "str", path, "int", AT_EMPTY_PATH) < 0) throw new FdOpError("link", path, errno());
}

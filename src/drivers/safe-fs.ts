// File work inside a guest root from the host. A guest's root is hostile: any path in it may be a
// symlink to the host's /etc, or a `..` chain. Every path here is resolved by the kernel with
// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), which treats the guest root as "/" for every
// component, symlinks and `..` included, so nothing we write can land outside it. The final
// component is opened with O_NOFOLLOW as well. Node and Bun lack openat2: koffi calls it.

import { closeSync, writeSync, fstatSync, openSync, readlinkSync, constants } from "node:fs";
import { basename } from "node:path";
import { VsError } from "../errors";
import { libc } from "./libc";

const SYS_openat2 = process.arch === "arm64" ? 437 : 437;
const SYS_mkdirat = process.arch === "arm64" ? 34 : 258;
const SYS_unlinkat = process.arch === "arm64" ? 35 : 263;
const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_IN_ROOT = 0x10;
const O_PATH = 0o10000000;
const AT_REMOVEDIR = 0x200;
const O_DIRECTORY = 0o200000;
const O_NOFOLLOW = 0o400000;
const O_CLOEXEC = 0o2000000;

let openHow: unknown;

/** The libc calls used here, with the open_how struct of openat2 declared once. */
function lib() {
  const c = libc();
  openHow ??= c.koffi.struct("open_how", { flags: "uint64_t", mode: "uint64_t", resolve: "uint64_t" });
  return { syscall: c.syscall, errno: c.errno, how: openHow, pointer: (t: unknown) => c.koffi.pointer(t) };
}

export class UnsafePathError extends VsError {}

function openat2(dirfd: number, path: string, flags: number, mode: number): number {
  const { syscall, errno, how: OpenHow, pointer } = lib();
  const how = { flags: BigInt(flags | O_CLOEXEC), mode: BigInt(mode), resolve: BigInt(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) };
  const fd = syscall(SYS_openat2, "int", dirfd, "str", path, pointer(OpenHow), how, "size_t", 24);
  if (fd < 0) {
    const e = new Error(`openat2 ${path}: errno ${errno()}`) as NodeJS.ErrnoException;
    e.errno = errno();
    e.code = errnoName(e.errno);
    throw e;
  }
  return fd;
}

function errnoName(n: number): string {
  return ({ 2: "ENOENT", 13: "EACCES", 17: "EEXIST", 18: "EXDEV", 20: "ENOTDIR", 21: "EISDIR", 40: "ELOOP" } as Record<number, string>)[n] ?? `E${n}`;
}

function splitParent(rel: string): { parent: string; base: string } {
  const clean = rel.replace(/^\/+/, "").replace(/\/+$/, "");
  const i = clean.lastIndexOf("/");
  const base = i < 0 ? clean : clean.slice(i + 1);
  if (!base || base === "." || base === "..") throw new UnsafePathError(`'${rel}' does not name a file.`);
  return { parent: i < 0 ? "." : clean.slice(0, i), base };
}

/** A guest root opened once; every operation resolves below it. */
export class GuestRoot {
  private fd: number;
  constructor(readonly root: string) {
    this.fd = openSync(root, constants.O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  }
  close(): void {
    closeSync(this.fd);
  }

  private openParent(rel: string): { fd: number; base: string } {
    const { parent, base } = splitParent(rel);
    const fd = openat2(this.fd, parent, O_PATH | O_DIRECTORY, 0);
    return { fd, base };
  }

  /**
   * Create or replace a regular file. A symlink in its place is an error, never followed; with
   * replaceSymlink the link itself is removed first (distributions link resolv.conf elsewhere).
   */
  writeFile(rel: string, content: string | Uint8Array, mode = 0o644, opts: { replaceSymlink?: boolean } = {}): void {
    const { fd: dfd, base } = this.openParent(rel);
    try {
      if (opts.replaceSymlink) {
        try {
          const probe = openat2(dfd, base, O_PATH | O_NOFOLLOW, 0);
          const isLink = fstatSync(probe).isSymbolicLink();
          closeSync(probe);
          if (isLink) lib().syscall(SYS_unlinkat, "int", dfd, "str", base, "int", 0);
        } catch {}
      }
      // A guest can plant a FIFO or a device node where we write: opening those could block the
      // host's command forever or act on a device. Refuse them before opening, and open with
      // O_NONBLOCK so that one swapped in after the check fails (ENXIO) instead of blocking.
      try {
        const probe = openat2(dfd, base, O_PATH | O_NOFOLLOW, 0);
        const st = fstatSync(probe);
        closeSync(probe);
        if (!st.isFile() && !st.isSymbolicLink()) throw new UnsafePathError(`${this.root}/${rel} is not a regular file; not writing through it.`);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
      const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | O_NOFOLLOW | constants.O_NONBLOCK;
      const fd = openat2(dfd, base, flags, mode);
      try {
        if (!fstatSync(fd).isFile()) throw new UnsafePathError(`${this.root}/${rel} is not a regular file; not writing through it.`);
        writeSync(fd, typeof content === "string" ? Buffer.from(content) : content);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ELOOP") {
        throw new UnsafePathError(`${this.root}/${rel} is a symbolic link; not writing through it.`);
      }
      throw e;
    } finally {
      closeSync(dfd);
    }
  }

  /**
   * Make `rel` (resolved below the root, symlinks and `..` included) the process's working
   * directory, through the descriptor openat2 gave: no path is looked up again.
   */
  chdirInto(rel: string): void {
    const fd = openat2(this.fd, rel.replace(/^\/+/, "") || ".", O_PATH | O_DIRECTORY, 0);
    try {
      if (Number(libc().func("int fchdir(int)")(fd)) !== 0) throw new Error(`fchdir: errno ${libc().errno()}`);
    } finally {
      closeSync(fd);
    }
  }

  /** Whether `rel` exists below the root (a final link counts as existing; it is not followed). */
  exists(rel: string): boolean {
    try {
      const { fd: dfd, base } = this.openParent(rel);
      try {
        closeSync(openat2(dfd, base, O_PATH | O_NOFOLLOW, 0));
        return true;
      } finally {
        closeSync(dfd);
      }
    } catch {
      return false;
    }
  }

  /**
   * A regular file with an execute bit at `rel`, symlinks resolved inside the root (a guest's /bin
   * may link into /usr). Only looked at (O_PATH), never opened for reading.
   */
  isExecutable(rel: string): boolean {
    try {
      const fd = openat2(this.fd, rel.replace(/^\/+/, "") || ".", O_PATH, 0);
      try {
        const st = fstatSync(fd);
        return st.isFile() && (st.mode & 0o111) !== 0;
      } finally {
        closeSync(fd);
      }
    } catch {
      return false;
    }
  }

  /**
   * The name of the file `rel` leads to, symlinks resolved inside the root (Debian's /sbin/init
   * is a link to /lib/systemd/systemd, which is one into /usr); undefined when nothing is there.
   * Only looked at (O_PATH): the kernel's name for the descriptor, never a path walked again.
   */
  resolvedName(rel: string): string | undefined {
    try {
      const fd = openat2(this.fd, rel.replace(/^\/+/, "") || ".", O_PATH, 0);
      try {
        return basename(readlinkSync(`/proc/self/fd/${fd}`));
      } finally {
        closeSync(fd);
      }
    } catch {
      return undefined;
    }
  }

  /** rmdir below the root; only an empty directory goes, and anything else is left alone. */
  removeEmptyDir(rel: string): void {
    try {
      const { fd: dfd, base } = this.openParent(rel);
      try {
        lib().syscall(SYS_unlinkat, "int", dfd, "str", base, "int", AT_REMOVEDIR);
      } finally {
        closeSync(dfd);
      }
    } catch {}
  }

  /** mkdir -p below the root; existing directories are fine, anything else in the way is an error. */
  mkdirs(rel: string, mode = 0o755): void {
    const parts = rel.replace(/^\/+/, "").split("/").filter(Boolean);
    let cur = "";
    for (const p of parts) {
      cur = cur ? `${cur}/${p}` : p;
      const { fd: dfd, base } = this.openParent(cur);
      try {
        const r = lib().syscall(SYS_mkdirat, "int", dfd, "str", base, "uint32_t", mode);
        if (r < 0 && lib().errno() !== 17) throw new Error(`mkdir ${this.root}/${cur}: errno ${lib().errno()}`);
        const check = openat2(dfd, base, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
        closeSync(check);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOTDIR" || (e as NodeJS.ErrnoException).code === "ELOOP") {
          throw new UnsafePathError(`${this.root}/${cur} is not a directory; not creating anything through it.`);
        }
        throw e;
      } finally {
        closeSync(dfd);
      }
    }
  }
}

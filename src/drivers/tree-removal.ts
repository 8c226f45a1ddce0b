// Removing a directory tree that a guest may have shaped (its root): opened once, then walked and
// removed through directory file descriptors (openat/unlinkat with O_NOFOLLOW), so a symlink or a
// rename inside the tree can never redirect the removal to a path outside it. The walk stays on
// the mount it started on: a directory on another mount (a file system or a bind mount, same
// device or not) is left alone and reported, never descended into.

import { closeSync, fstatSync, readdirSync, readFileSync } from "node:fs";
import { VsError } from "../errors";
import { libc } from "./libc";

const SYS_openat = process.arch === "arm64" ? 56 : 257;
const SYS_unlinkat = process.arch === "arm64" ? 35 : 263;
const O_DIRECTORY = 0o200000;
const O_NOFOLLOW = 0o400000;
const O_CLOEXEC = 0o2000000;
const AT_REMOVEDIR = 0x200;
const ENOENT = 2, EISDIR = 21, ENOTDIR = 20, ELOOP = 40;

/** The mount an open file lives on (mnt_id in /proc/self/fdinfo): bind mounts of one device differ. */
function mountIdOf(fd: number): string {
  return /^mnt_id:\s*(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1] ?? "";
}

function cName(name: Buffer): Buffer {
  return Buffer.concat([name, Buffer.from([0])]);
}

function openDirAt(dirfd: number, name: Buffer): number {
  const { syscall, errno } = libc();
  const fd = syscall(SYS_openat, "int", dirfd, "uint8_t *", cName(name), "int", O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, "int", 0);
  return fd < 0 ? -errno() : fd;
}

function unlinkAt(dirfd: number, name: Buffer, flags: number): number {
  const { syscall, errno } = libc();
  return syscall(SYS_unlinkat, "int", dirfd, "uint8_t *", cName(name), "int", flags) < 0 ? errno() : 0;
}

/** A directory opened for removal: what the checks were made on is what gets removed. */
export interface OpenedTree {
  path: string;
  fd: number;
  dev: number;
  ino: number;
}

/** Open `path` (already resolved, so no symlink in it) as a directory, without following a final link. */
export function openTree(path: string): OpenedTree {
  const fd = openDirAt(-100 /* AT_FDCWD */, Buffer.from(path));
  if (fd < 0) throw new VsError(`cannot open ${path} for removal (errno ${-fd}).`, { file: path });
  const st = fstatSync(fd);
  return { path, fd, dev: st.dev, ino: st.ino };
}

export interface RemovalOutcome {
  /** Directories left in place because another mount is there. */
  otherMounts: string[];
  /** Entries that could not be removed, with the errno. */
  failed: string[];
}

/**
 * Remove everything below the opened directory and close it. The directory itself stays (its
 * parent removes it by name); what could not be removed is returned, not thrown, so the caller
 * says it once.
 */
export function removeContents(top: OpenedTree): RemovalOutcome {
  const out: RemovalOutcome = { otherMounts: [], failed: [] };
  const topMount = mountIdOf(top.fd);
  const walk = (dfd: number, path: string) => {
    const names = readdirSync(`/proc/self/fd/${dfd}`, { encoding: "buffer" }) as Buffer[];
    for (const name of names) {
      // One system call for the usual case (not a directory); a directory answers EISDIR.
      const err = unlinkAt(dfd, name, 0);
      if (err === 0 || err === ENOENT) continue;
      const sub = `${path}/${name.toString()}`;
      if (err !== EISDIR) {
        out.failed.push(`${sub} (errno ${err})`);
        continue;
      }
      const cfd = openDirAt(dfd, name);
      if (cfd < 0) {
        if (-cfd === ENOTDIR || -cfd === ELOOP) {
          // Swapped for a file or a link since: remove that instead, never follow it.
          const again = unlinkAt(dfd, name, 0);
          if (again !== 0 && again !== ENOENT) out.failed.push(`${sub} (errno ${again})`);
        } else if (-cfd !== ENOENT) out.failed.push(`${sub} (errno ${-cfd})`);
        continue;
      }
      try {
        if (fstatSync(cfd).dev !== top.dev || mountIdOf(cfd) !== topMount) {
          out.otherMounts.push(sub);
          continue;
        }
        walk(cfd, sub);
      } finally {
        closeSync(cfd);
      }
      const rmErr = unlinkAt(dfd, name, AT_REMOVEDIR);
      if (rmErr !== 0 && rmErr !== ENOENT) out.failed.push(`${sub} (errno ${rmErr})`);
    }
  };
  try {
    walk(top.fd, top.path);
  } finally {
    closeSync(top.fd);
  }
  return out;
}

/** Remove the (emptied) directory `name` from its parent directory `parent`. */
export function removeEmptyDir(parent: string, name: string): number {
  const pfd = openDirAt(-100, Buffer.from(parent));
  if (pfd < 0) return -pfd;
  try {
    const err = unlinkAt(pfd, Buffer.from(name), AT_REMOVEDIR);
    return err === ENOENT ? 0 : err;
  } finally {
    closeSync(pfd);
  }
}

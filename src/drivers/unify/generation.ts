// Building a guest's metadata tree from a tree of real files (the guest's plain root, or its
// merged tree mounted read-only), putting every file's content into the store on the way.
//
// The metadata tree has the guest's directories, symlinks and special files as they are, and for
// each regular file a sparse stub of its size with its owner, mode, times and extended attributes
// (file capabilities, ACLs, SELinux labels), plus overlayfs's metacopy mark and the redirect to
// its object. Hard links stay hard links among the stubs. The source is only read; nothing is
// followed through a symlink, and the stubs are made under the generation's new directory.

import { chmodSync, closeSync, copyFileSync, constants, existsSync, ftruncateSync, linkSync, lchownSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, renameSync, rmSync, symlinkSync, type BigIntStats } from "node:fs";
import { METACOPY_XATTR, OVERLAY_XATTR_PREFIX, REDIRECT_XATTR, objectRelPath, redirectOf } from "../../pure/unify/objects";
import { getXattr, listXattrs, makeNode, setXattr } from "./xattrs";

export interface BuildStats {
  files: number;
  bytes: number;
  newObjects: number;
  newBytes: number;
}

export type Progress = (s: BuildStats) => void;

const CHUNK = 1 << 20;

/** SHA-256 of a regular file's content, read without following a symlink. */
export function digestOf(path: string, buf: Buffer): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const h = new Bun.CryptoHasher("sha256");
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
    }
    return h.digest("hex");
  } finally {
    closeSync(fd);
  }
}

let tmpSeq = 0;

/**
 * Make sure the store holds `digest`, copying it from `src` when it does not (a reflink where the
 * file system can: the same blocks, no data copied). Written under a temporary name and renamed,
 * so an object that exists is always whole.
 */
export function ensureObject(store: string, digest: string, src: string): boolean {
  const rel = objectRelPath(digest);
  const final = `${store}/${rel}`;
  if (existsSync(final)) return false;
  const dir = final.slice(0, final.lastIndexOf("/"));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${dir}/.tmp-${process.pid}-${tmpSeq++}`;
  try {
    copyFileSync(src, tmp, constants.COPYFILE_FICLONE);
    chmodSync(tmp, 0o444);
    renameSync(tmp, final);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return true;
}

function copyXattrs(src: string, dst: string): void {
  for (const name of listXattrs(src)) {
    if (name.startsWith(OVERLAY_XATTR_PREFIX)) continue;
    const v = getXattr(src, name);
    if (v !== undefined) setXattr(dst, name, v);
  }
}

/** Owner, then mode (a chown clears set-id bits), then attributes (it clears capabilities too). */
function copyAttrs(src: string, dst: string, st: BigIntStats, symlink: boolean): void {
  lchownSync(dst, Number(st.uid), Number(st.gid));
  if (!symlink) chmodSync(dst, Number(st.mode) & 0o7777);
  copyXattrs(src, dst);
}

function copyTimes(dst: string, st: BigIntStats): void {
  lutimesSync(dst, Number(st.atimeNs) / 1e9, Number(st.mtimeNs) / 1e9);
}

/** Build `meta` (which must not exist) from `source`; objects go into `store`. */
export function buildMetadataTree(source: string, meta: string, store: string, progress?: Progress): BuildStats {
  const stats: BuildStats = { files: 0, bytes: 0, newObjects: 0, newBytes: 0 };
  const links = new Map<string, string>();
  const buf = Buffer.allocUnsafe(CHUNK);
  const rootSt = lstatSync(source, { bigint: true });
  if (!rootSt.isDirectory()) throw new Error(`${source} is not a directory`);
  mkdirSync(meta, { mode: 0o700 });
  // Directories get their attributes and times after their contents are made (post-order).
  const dirs: Array<{ src: string; dst: string; st: BigIntStats }> = [{ src: source, dst: meta, st: rootSt }];
  const todo: Array<{ src: string; dst: string }> = [{ src: source, dst: meta }];
  while (todo.length) {
    const { src, dst } = todo.pop()!;
    for (const entry of readdirSync(src)) {
      const s = `${src}/${entry}`;
      const d = `${dst}/${entry}`;
      const st = lstatSync(s, { bigint: true });
      if (st.isDirectory()) {
        mkdirSync(d, { mode: 0o700 });
        dirs.push({ src: s, dst: d, st });
        todo.push({ src: s, dst: d });
        continue;
      }
      if (st.nlink > 1n && !st.isDirectory()) {
        const key = `${st.dev}:${st.ino}`;
        const first = links.get(key);
        if (first) {
          linkSync(first, d);
          continue;
        }
        links.set(key, d);
      }
      if (st.isFile()) {
        stats.files++;
        stats.bytes += Number(st.size);
        if (st.size === 0n) {
          closeSync(openSync(d, "wx", 0o600));
          copyAttrs(s, d, st, false);
        } else {
          const digest = digestOf(s, buf);
          if (ensureObject(store, digest, s)) {
            stats.newObjects++;
            stats.newBytes += Number(st.size);
          }
          const fd = openSync(d, "wx", 0o600);
          try {
            ftruncateSync(fd, Number(st.size));
          } finally {
            closeSync(fd);
          }
          copyAttrs(s, d, st, false);
          setXattr(d, METACOPY_XATTR, Buffer.alloc(0));
          setXattr(d, REDIRECT_XATTR, Buffer.from(redirectOf(digest)));
        }
        if (progress && stats.files % 500 === 0) progress(stats);
      } else if (st.isSymbolicLink()) {
        symlinkSync(readlinkSync(s), d);
        copyAttrs(s, d, st, true);
      } else {
        makeNode(d, Number(st.mode), Number(st.rdev));
        copyAttrs(s, d, st, false);
      }
      copyTimes(d, st);
    }
  }
  for (let i = dirs.length - 1; i >= 0; i--) {
    const { src, dst, st } = dirs[i]!;
    copyAttrs(src, dst, st, false);
    copyTimes(dst, st);
  }
  progress?.(stats);
  return stats;
}

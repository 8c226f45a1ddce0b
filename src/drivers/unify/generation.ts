// Building a guest's metadata tree from a tree of real files (the guest's plain root, or its
// merged tree mounted read-only), putting every file's content into the store on the way.
//
// The metadata tree has the guest's directories, symlinks and special files as they are, and for
// each regular file a sparse stub of its size with its owner, mode, times and extended attributes
// (file capabilities, ACLs, SELinux labels), plus overlayfs's metacopy mark and the redirect to
// its object. Files the guest's exclude list keeps (apps/vunify/exclude) are whole files there
// instead, with their data (a reflink of the source where the file system can), and go into no
// object. Hard links stay hard links among the stubs. The source is only read, through directory
// descriptors (copyDir says why); the stubs are made under the generation's new directory.

import { chmodSync, closeSync, copyFileSync, constants, existsSync, fstatSync, ftruncateSync, linkSync, lchownSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, renameSync, rmSync, symlinkSync, type BigIntStats } from "node:fs";
import { METACOPY_XATTR, OVERLAY_XATTR_PREFIX, REDIRECT_XATTR, objectRelPath, redirectOf } from "../../pure/unify/objects";
import { excludeVerdict, type ExcludeList } from "../../pure/unify/exclude";
import { getXattr, listXattrs, makeNode, setXattr, type XattrTarget } from "./xattrs";

export interface BuildStats {
  files: number;
  bytes: number;
  newObjects: number;
  newBytes: number;
  /** Regular files the exclude list kept with the guest (in its metadata tree, with their data). */
  keptFiles: number;
  keptBytes: number;
}

export const NO_STATS: Readonly<BuildStats> = { files: 0, bytes: 0, newObjects: 0, newBytes: 0, keptFiles: 0, keptBytes: 0 };

export type Progress = (s: BuildStats) => void;

const CHUNK = 1 << 20;

/** SHA-256 of the content of an open file. */
export function digestOfFd(fd: number, buf: Buffer): string {
  const h = new Bun.CryptoHasher("sha256");
  for (let pos = 0; ; ) {
    const n = readSync(fd, buf, 0, CHUNK, pos);
    if (n <= 0) break;
    h.update(buf.subarray(0, n));
    pos += n;
  }
  return h.digest("hex");
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

const O_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const O_FILE = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Attributes from `from` (a path, never followed, or an open descriptor) onto `dst`. */
function copyXattrs(from: XattrTarget, dst: string): void {
  for (const name of listXattrs(from)) {
    if (name.startsWith(OVERLAY_XATTR_PREFIX)) continue;
    const v = getXattr(from, name);
    if (v !== undefined) setXattr(dst, name, v);
  }
}

/** Owner, then mode (a chown clears set-id bits), then attributes (it clears capabilities too). */
function copyAttrs(from: XattrTarget, dst: string, st: BigIntStats, symlink: boolean): void {
  lchownSync(dst, Number(st.uid), Number(st.gid));
  if (!symlink) chmodSync(dst, Number(st.mode) & 0o7777);
  copyXattrs(from, dst);
}

function copyTimes(dst: string, st: BigIntStats): void {
  lutimesSync(dst, Number(st.atimeNs) / 1e9, Number(st.mtimeNs) / 1e9);
}

interface Walk {
  store: string;
  exclude: ExcludeList;
  stats: BuildStats;
  links: Map<string, string>;
  buf: Buffer;
  progress?: Progress;
}

/**
 * Copy the directory open as `dirFd` into `dst` (made already). Every entry is reached through
 * its directory's descriptor (`/proc/self/fd/N/NAME`), never through a path of the source: a
 * directory swapped for a link (by a process left in a stopped guest, say) cannot lead the walk
 * out of the tree, and each file is read through the descriptor it was opened with.
 */
function copyDir(w: Walk, dirFd: number, dst: string, rel: string, kept: boolean): void {
  const at = `/proc/self/fd/${dirFd}`;
  for (const entry of readdirSync(at)) {
    const s = `${at}/${entry}`;
    const d = `${dst}/${entry}`;
    const path = `${rel}/${entry}`;
    // Below a kept directory everything is kept, as util-vserver never entered one.
    const keep = kept || excludeVerdict(w.exclude, path) === "keep";
    const st = lstatSync(s, { bigint: true });
    if (st.isDirectory()) {
      const fd = openSync(s, O_DIR);
      try {
        const dst2 = fstatSync(fd, { bigint: true });
        mkdirSync(d, { mode: 0o700 });
        copyDir(w, fd, d, path, keep);
        copyAttrs(fd, d, dst2, false);
        copyTimes(d, dst2);
      } finally {
        closeSync(fd);
      }
      continue;
    }
    if (st.isFile()) {
      copyFile(w, s, d, keep);
      continue;
    }
    if (st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = w.links.get(key);
      if (first) {
        linkSync(first, d);
        continue;
      }
      w.links.set(key, d);
    }
    if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(s), d);
      copyAttrs(s, d, st, true);
    } else {
      makeNode(d, Number(st.mode), Number(st.rdev));
      copyAttrs(s, d, st, false);
    }
    copyTimes(d, st);
  }
}

/**
 * A regular file: its content into the store (once), its stub into the metadata tree; or, when
 * `keep`, the whole file into the metadata tree. Of a file with several names, the first name
 * the walk meets decides.
 */
function copyFile(w: Walk, s: string, d: string, keep: boolean): void {
  const fd = openSync(s, O_FILE);
  try {
    const st = fstatSync(fd, { bigint: true });
    // Swapped for something else since the listing: left out rather than read.
    if (!st.isFile()) return;
    if (st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = w.links.get(key);
      if (first) {
        linkSync(first, d);
        return;
      }
      w.links.set(key, d);
    }
    w.stats.files++;
    w.stats.bytes += Number(st.size);
    if (st.size === 0n) {
      closeSync(openSync(d, "wx", 0o600));
      copyAttrs(fd, d, st, false);
    } else if (keep) {
      copyFileSync(`/proc/self/fd/${fd}`, d, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
      copyAttrs(fd, d, st, false);
      w.stats.keptFiles++;
      w.stats.keptBytes += Number(st.size);
    } else {
      const digest = digestOfFd(fd, w.buf);
      if (ensureObject(w.store, digest, `/proc/self/fd/${fd}`)) {
        w.stats.newObjects++;
        w.stats.newBytes += Number(st.size);
      }
      const out = openSync(d, "wx", 0o600);
      try {
        ftruncateSync(out, Number(st.size));
      } finally {
        closeSync(out);
      }
      copyAttrs(fd, d, st, false);
      setXattr(d, METACOPY_XATTR, Buffer.alloc(0));
      setXattr(d, REDIRECT_XATTR, Buffer.from(redirectOf(digest)));
    }
    copyTimes(d, st);
    if (w.progress && w.stats.files % 500 === 0) w.progress(w.stats);
  } finally {
    closeSync(fd);
  }
}

/** Build `meta` (which must not exist) from the tree at `source`; objects go into `store`, but for what `exclude` keeps. */
export function buildMetadataTree(source: string, meta: string, store: string, exclude: ExcludeList, progress?: Progress): BuildStats {
  const w: Walk = { store, exclude, stats: { ...NO_STATS }, links: new Map(), buf: Buffer.allocUnsafe(CHUNK), progress };
  const fd = openSync(source, O_DIR);
  try {
    const st = fstatSync(fd, { bigint: true });
    mkdirSync(meta, { mode: 0o700 });
    copyDir(w, fd, meta, "", excludeVerdict(exclude, "/") === "keep");
    copyAttrs(fd, meta, st, false);
    copyTimes(meta, st);
  } finally {
    closeSync(fd);
  }
  progress?.(w.stats);
  return w.stats;
}

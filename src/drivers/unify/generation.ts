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

import { chmodSync, closeSync, constants, existsSync, fchmodSync, fchownSync, fstatSync, ftruncateSync, futimesSync, linkSync, lchownSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, symlinkSync, type BigIntStats } from "node:fs";
import { METACOPY_XATTR, OVERLAY_XATTR_PREFIX, REDIRECT_XATTR, objectRelPath, redirectOf } from "../../pure/unify/objects";
import { excludeVerdict, type ExcludeList } from "../../pure/unify/exclude";
import { getXattr, listXattrs, makeNode, setXattr, type XattrTarget } from "./xattrs";
import { AT_FDCWD, cloneOrCopy, linkAs, openDirAt, openFileAt, openNameless } from "./fd-ops";
import { childLayers, untouched, type PreviousLayers } from "./previous-layers";

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

/**
 * Make sure the store holds `digest`, copying it from the open file `src` when it does not (a
 * reflink where the file system can: the same blocks, no data copied). The copy is made without
 * a name and linked as the object once complete, so an object that exists is always whole, and a
 * command killed before leaves nothing behind.
 */
function ensureObject(w: Walk, digest: string, src: number, size: number): boolean {
  const final = `${w.store}/${objectRelPath(digest)}`;
  if (existsSync(final)) return false;
  const dir = final.slice(0, final.lastIndexOf("/"));
  if (!w.storeDirs.has(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    w.storeDirs.add(dir);
  }
  const out = openNameless(dir, 0o444);
  try {
    cloneOrCopy(src, out, size, w.buf);
    fchmodSync(out, 0o444);
    linkAs(out, final);
  } finally {
    closeSync(out);
  }
  return true;
}

/** Attributes from `from` onto `to` (each a path, never followed, or an open descriptor). */
function copyXattrs(from: XattrTarget, to: XattrTarget): void {
  for (const name of listXattrs(from)) {
    if (name.startsWith(OVERLAY_XATTR_PREFIX)) continue;
    const v = getXattr(from, name);
    if (v !== undefined) setXattr(to, name, v);
  }
}

/**
 * Owner, then mode (a chown clears set-id bits), then attributes (it clears capabilities too),
 * onto `to`: a path (never followed) or, for a file made here, its open descriptor.
 */
function copyAttrs(from: XattrTarget, to: XattrTarget, st: BigIntStats, symlink: boolean): void {
  if (typeof to === "number") {
    fchownSync(to, Number(st.uid), Number(st.gid));
    fchmodSync(to, Number(st.mode) & 0o7777);
  } else {
    lchownSync(to, Number(st.uid), Number(st.gid));
    if (!symlink) chmodSync(to, Number(st.mode) & 0o7777);
  }
  copyXattrs(from, to);
}

function copyTimes(to: XattrTarget, st: BigIntStats): void {
  const atime = Number(st.atimeNs) / 1e9;
  const mtime = Number(st.mtimeNs) / 1e9;
  if (typeof to === "number") futimesSync(to, atime, mtime);
  else lutimesSync(to, atime, mtime);
}

interface Walk {
  store: string;
  exclude: ExcludeList;
  stats: BuildStats;
  links: Map<string, string>;
  /** The store's directories known to exist. */
  storeDirs: Set<string>;
  buf: Buffer;
  progress?: Progress;
}

/**
 * Copy the directory open as `dirFd` into `dst` (made already). Every entry is reached through
 * its directory's descriptor (openat, or `/proc/self/fd/N/NAME` for links and special files),
 * never through a path of the source: a directory swapped for a link (by a process left in a
 * stopped guest, say) cannot lead the walk out of the tree, and each file is read through the
 * descriptor it was opened with. The listing's file types spare a stat of every file and
 * directory; what was swapped since is refused by the open (O_NOFOLLOW, O_DIRECTORY).
 */
function copyDir(w: Walk, dirFd: number, dst: string, rel: string, kept: boolean, layers: PreviousLayers | undefined): void {
  const at = `/proc/self/fd/${dirFd}`;
  for (const ent of readdirSync(at, { withFileTypes: true })) {
    const entry = ent.name;
    const d = `${dst}/${entry}`;
    const path = `${rel}/${entry}`;
    // Below a kept directory everything is kept, as util-vserver never entered one.
    const keep = kept || excludeVerdict(w.exclude, path) === "keep";
    if (ent.isDirectory()) {
      copySubdir(w, dirFd, entry, d, path, keep, layers);
      continue;
    }
    if (ent.isFile()) {
      copyFile(w, dirFd, entry, d, keep, layers);
      continue;
    }
    const s = `${at}/${entry}`;
    const st = lstatSync(s, { bigint: true });
    // A listing without file types (DT_UNKNOWN) names directories and files too.
    if (st.isDirectory()) {
      copySubdir(w, dirFd, entry, d, path, keep, layers);
      continue;
    }
    if (st.isFile()) {
      copyFile(w, dirFd, entry, d, keep, layers);
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

function copySubdir(w: Walk, dirFd: number, name: string, d: string, path: string, keep: boolean, layers: PreviousLayers | undefined): void {
  const fd = openDirAt(dirFd, name);
  try {
    const st = fstatSync(fd, { bigint: true });
    mkdirSync(d, { mode: 0o700 });
    copyDir(w, fd, d, path, keep, childLayers(layers, name));
    copyAttrs(fd, d, st, false);
    copyTimes(d, st);
  } finally {
    closeSync(fd);
  }
}

/**
 * A regular file: its content into the store (once), its stub into the metadata tree; or, when
 * `keep`, the whole file into the metadata tree. Of a file with several names, the first name
 * the walk meets decides. The new file's attributes are set through its descriptor.
 */
function copyFile(w: Walk, dirFd: number, name: string, d: string, keep: boolean, layers: PreviousLayers | undefined): void {
  const fd = openFileAt(dirFd, name);
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
    const size = Number(st.size);
    w.stats.files++;
    w.stats.bytes += size;
    let digest: string | undefined;
    const out = openSync(d, "wx", 0o600);
    try {
      const known = size > 0 ? untouched(layers, name, st) : undefined;
      if (size > 0 && keep) {
        if (known && "keptFile" in known) cloneFrom(known.keptFile, out, size, w.buf);
        else cloneOrCopy(fd, out, size, w.buf);
        w.stats.keptFiles++;
        w.stats.keptBytes += size;
      } else if (size > 0) {
        digest = known && "digest" in known ? known.digest : digestOfFd(fd, w.buf);
        if (ensureObject(w, digest, fd, size)) {
          w.stats.newObjects++;
          w.stats.newBytes += size;
        }
        ftruncateSync(out, size);
      }
      copyAttrs(fd, out, st, false);
      if (digest) {
        setXattr(out, METACOPY_XATTR, Buffer.alloc(0));
        setXattr(out, REDIRECT_XATTR, Buffer.from(redirectOf(digest)));
      }
      copyTimes(out, st);
    } finally {
      closeSync(out);
    }
    if (w.progress && w.stats.files % 500 === 0) w.progress(w.stats);
  } finally {
    closeSync(fd);
  }
}

/** The content of our own file at `path` (the previous metadata tree's) into the open file `out`. */
function cloneFrom(path: string, out: number, size: number, buf: Buffer): void {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    cloneOrCopy(fd, out, size, buf);
  } finally {
    closeSync(fd);
  }
}

/**
 * Build `meta` (which must not exist) from the tree at `source`; objects go into `store`, but for
 * what `exclude` keeps. `previous`: the upper and metadata tree the source (a view) shows, whose
 * untouched files need not be read again.
 */
export function buildMetadataTree(source: string, meta: string, store: string, exclude: ExcludeList, progress?: Progress, previous?: PreviousLayers): BuildStats {
  const w: Walk = { store, exclude, stats: { ...NO_STATS }, links: new Map(), storeDirs: new Set(), buf: Buffer.allocUnsafe(CHUNK), progress };
  const fd = openDirAt(AT_FDCWD, source);
  try {
    const st = fstatSync(fd, { bigint: true });
    mkdirSync(meta, { mode: 0o700 });
    copyDir(w, fd, meta, "", excludeVerdict(exclude, "/") === "keep", previous);
    copyAttrs(fd, meta, st, false);
    copyTimes(meta, st);
  } finally {
    closeSync(fd);
  }
  progress?.(w.stats);
  return w.stats;
}

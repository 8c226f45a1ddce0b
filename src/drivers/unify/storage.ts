// Whether the unification pool's file system can hold a metadata tree: overlayfs keeps its
// metacopy and redirect marks in extended attributes of every stub, which must fit in the inode
// (XFS; ext4 made with 512-byte inodes), or each of thousands of stubs costs a block. The probe
// asks the file system itself: a stub with both marks must use no block.

import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, rmSync, statfsSync, fsyncSync } from "node:fs";
import { VsError } from "../../errors";
import { METACOPY_XATTR, REDIRECT_XATTR, redirectOf } from "../../pure/unify/objects";
import { setXattr, XattrError } from "./xattrs";

const FS_NAMES: Record<number, string> = {
  0x58465342: "xfs", 0xef53: "ext4", 0x9123683e: "btrfs", 0x01021994: "tmpfs", 0x794c7630: "overlay", 0x6969: "nfs",
};

/** The file system a path is on: its type, mount point, source and options, as /proc/self/mountinfo says. */
export function storageOf(path: string): { type: string; mountPoint: string; source: string; options: string[] } {
  let best = { type: "?", mountPoint: "/", source: "?", options: [] as string[] };
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const f = line.split(" ");
    const sep = f.indexOf("-");
    if (sep < 0) continue;
    const mp = (f[4] ?? "").replace(/\\040/g, " ");
    const prefix = mp === "/" ? "/" : mp + "/";
    if ((path + "/").startsWith(prefix) && mp.length >= best.mountPoint.length) {
      best = { type: f[sep + 1]!, mountPoint: mp, source: f[sep + 2]!, options: (f[sep + 3] ?? "").split(",") };
    }
  }
  return best;
}

export function describeStorage(path: string): string {
  const s = storageOf(path);
  return `${s.type} on ${s.source}, mounted at ${s.mountPoint}`;
}

/**
 * Refuse, in one sentence naming the file system, a pool that cannot hold metadata trees.
 * `pool` is made when missing (its parent must exist).
 */
export function requireUnifiableStorage(pool: string): void {
  mkdirSync(pool, { recursive: true, mode: 0o700 });
  const type = FS_NAMES[Number(statfsSync(pool).type)] ?? storageOf(pool).type;
  const where = describeStorage(pool);
  const probe = `${pool}/.probe-${process.pid}`;
  let fd = -1;
  try {
    fd = openSync(probe, "w", 0o600);
    setXattr(probe, METACOPY_XATTR, Buffer.alloc(0));
    setXattr(probe, REDIRECT_XATTR, Buffer.from(redirectOf("0".repeat(64))));
    fsyncSync(fd);
    if (fstatSync(fd).blocks > 0) {
      throw new VsError(`the unification pool ${pool} is on ${where}, whose inodes are too small to keep overlayfs's attributes: every file would cost a disk block. Put ${pool} on XFS, or on ext4 made with 'mkfs.ext4 -I 512'.`, { file: pool });
    }
  } catch (e) {
    if (e instanceof XattrError) {
      throw new VsError(`the unification pool ${pool} is on ${where}, which cannot keep overlayfs's trusted attributes (errno ${e.errno}); put it on XFS, or on ext4 made with 'mkfs.ext4 -I 512'.`, { file: pool });
    }
    throw e;
  } finally {
    if (fd >= 0) closeSync(fd);
    rmSync(probe, { force: true });
  }
  if (type === "overlay" || type === "nfs") {
    throw new VsError(`the unification pool ${pool} is on ${where}; overlayfs cannot use layers there. Put it on XFS, or on ext4 made with 'mkfs.ext4 -I 512'.`, { file: pool });
  }
}

// The qgroup numbers of many btrfs subvolumes at once, for /metrics and the API's guest views,
// without a process per guest: each root's file system and subvolume id from two ioctls on its
// directory (what `btrfs inspect-internal rootid` and `btrfs filesystem show` ask the kernel),
// and the numbers from the kernel's own files under /sys/fs/btrfs/FSID/qgroups/0_ID/ (Linux 5.9
// and later). These are as of the file system's last transaction commit (every 30 s by default,
// or at a sync): the reader does not force one, so watching never slows the guests' writes.

import { closeSync, constants, openSync, readFileSync } from "node:fs";
import { ioctlBuffer } from "./libc";
import { isSubvolume } from "./btrfs";

/** _IOR(BTRFS_IOCTL_MAGIC 0x94, 31, struct btrfs_ioctl_fs_info_args), 1024 bytes. */
const BTRFS_IOC_FS_INFO = 0x8400941f;
const FS_INFO_SIZE = 1024;
const FS_INFO_FSID_OFFSET = 16;
/** _IOWR(0x94, 18, struct btrfs_ioctl_ino_lookup_args), 4096 bytes: treeid, objectid, name. */
const BTRFS_IOC_INO_LOOKUP = 0xd0009412;
const INO_LOOKUP_SIZE = 4096;
/** The top directory of every subvolume: looked up, it names the subvolume's tree. */
const BTRFS_FIRST_FREE_OBJECTID = 256n;
/** limit_flags bit of a limit on exclusive bytes (BTRFS_QGROUP_LIMIT_MAX_EXCL). */
const LIMIT_MAX_EXCL = 2;

export interface SubvolumeIdentity {
  /** The file system's id, as /sys/fs/btrfs/ names it. */
  fsid: string;
  /** The subvolume's id: its level-0 qgroup is 0/ID. */
  subvolume: number;
}

export interface QgroupNumbers {
  /** Bytes only this subvolume holds. */
  exclusive: number;
  referenced: number;
  /** The limit on exclusive bytes; undefined: none. */
  maxExclusive: number | undefined;
}

function uuid(b: Buffer): string {
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The file system and subvolume id of the subvolume whose top directory is `path`; undefined when it is none. */
export function subvolumeIdentity(path: string): SubvolumeIdentity | undefined {
  if (!isSubvolume(path)) return undefined;
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const info = Buffer.alloc(FS_INFO_SIZE);
    if (ioctlBuffer(fd, BTRFS_IOC_FS_INFO, info) !== 0) return undefined;
    const lookup = Buffer.alloc(INO_LOOKUP_SIZE);
    lookup.writeBigUInt64LE(BTRFS_FIRST_FREE_OBJECTID, 8);
    if (ioctlBuffer(fd, BTRFS_IOC_INO_LOOKUP, lookup) !== 0) return undefined;
    return { fsid: uuid(info.subarray(FS_INFO_FSID_OFFSET, FS_INFO_FSID_OFFSET + 16)), subvolume: Number(lookup.readBigUInt64LE(0)) };
  } finally {
    closeSync(fd);
  }
}

function readNumber(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, "utf8").trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The level-0 qgroups of one file system, read as asked: undefined for a subvolume without one,
 * and for every subvolume while the file system's quotas are off (the kernel then has no
 * qgroups directory). `sysfs` is /sys/fs/btrfs, other for tests.
 */
export function qgroupReader(fsid: string, sysfs = "/sys/fs/btrfs"): (subvolume: number) => QgroupNumbers | undefined {
  const dir = `${sysfs}/${fsid}/qgroups`;
  if (readNumber(`${dir}/enabled`) !== 1) return () => undefined;
  return (subvolume) => {
    const q = `${dir}/0_${subvolume}`;
    const exclusive = readNumber(`${q}/exclusive`);
    if (exclusive === undefined) return undefined;
    const flags = readNumber(`${q}/limit_flags`) ?? 0;
    return {
      exclusive,
      referenced: readNumber(`${q}/referenced`) ?? 0,
      maxExclusive: flags & LIMIT_MAX_EXCL ? readNumber(`${q}/max_exclusive`) : undefined,
    };
  };
}

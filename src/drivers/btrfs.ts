// btrfs subvolumes and qgroups, through btrfs-progs: a guest root that is its own subvolume is
// charged to its own qgroup, whose exclusive-bytes limit is the guest's disk limit
// (docs/unification.md, "Disk limits"). Exclusive rather than referenced bytes, so that extents
// shared by reflink with other guests are not charged to each of them (feasibility §3.5).

import { chmodSync, statfsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { ToolError } from "../errors";
import { lastLine, run, which } from "./process";

const BTRFS_SUPER_MAGIC = 0x9123683e;
/** The inode number of every subvolume's top directory (BTRFS_FIRST_FREE_OBJECTID). */
const SUBVOLUME_ROOT_INO = 256;

export function onBtrfs(path: string): boolean {
  try {
    return Number(statfsSync(path).type) === BTRFS_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/** The path is the top directory of a btrfs subvolume. */
export function isSubvolume(path: string): boolean {
  try {
    return onBtrfs(path) && statSync(path).ino === SUBVOLUME_ROOT_INO;
  } catch {
    return false;
  }
}

export function haveBtrfsTools(): boolean {
  return which("btrfs") !== undefined;
}

function btrfs(args: string[], what: string): string {
  const r = run(["btrfs", ...args]);
  if (r.code !== 0) throw new ToolError(`${what}: btrfs ${args[0]} ${args[1]} failed: ${lastLine(r.stderr) || `exit ${r.code}`}`);
  return r.stdout;
}

/** A new, empty subvolume at `path` (its parent must exist), with the mode a directory would get. */
export function createSubvolume(path: string, mode: number): void {
  btrfs(["subvolume", "create", path], `cannot make ${path} a btrfs subvolume`);
  chmodSync(path, mode);
}

/** The subvolume id of the subvolume that holds `path`. */
export function subvolumeId(path: string): number {
  return Number(btrfs(["inspect-internal", "rootid", path], `cannot read the subvolume id of ${path}`).trim());
}

/** Quotas (qgroup accounting) are on for the file system that holds `path`. */
export function quotaEnabled(path: string): boolean {
  const r = run(["btrfs", "qgroup", "show", path]);
  if (r.code === 0) return true;
  if (/not enabled/.test(r.stderr)) return false;
  throw new ToolError(`cannot read the btrfs quota state of ${path}: ${lastLine(r.stderr) || `exit ${r.code}`}`);
}

/** Turn quotas on and wait for the first scan, so that what exists is counted before any limit. */
export function enableQuota(path: string): void {
  btrfs(["quota", "enable", path], `cannot enable btrfs quotas on ${path}`);
  btrfs(["quota", "rescan", "-W", path], `cannot wait for the btrfs quota scan of ${path}`);
}

export interface Qgroup {
  id: string;
  /** Bytes only this subvolume holds. */
  exclusive: number;
  referenced: number;
  /** Limit on exclusive bytes; undefined = none. */
  maxExclusive: number | undefined;
}

/** The qgroup of the subvolume whose top directory is `path`, as the file system counts it now. */
export function qgroupOf(path: string): Qgroup {
  const out = btrfs(["qgroup", "show", "-ref", "--raw", "--sync", path], `cannot read the btrfs qgroup of ${path}`);
  const id = `0/${subvolumeId(path)}`;
  for (const line of out.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[0] !== id) continue;
    return { id, referenced: Number(f[1]), exclusive: Number(f[2]), maxExclusive: f[4] === "none" ? undefined : Number(f[4]) };
  }
  throw new ToolError(`cannot read the btrfs qgroup of ${path}: qgroup ${id} is not listed.`);
}

/**
 * Limit the exclusive bytes of the subvolume at `path`; undefined removes the limit. The call is
 * made on the directory above, naming the qgroup: made on the subvolume itself, its transaction
 * is charged to that qgroup, and a guest already over its limit could then never be given more.
 */
export function limitExclusive(path: string, bytes: number | undefined): void {
  const qgroup = `0/${subvolumeId(path)}`;
  btrfs(["qgroup", "limit", "-e", bytes === undefined ? "none" : String(bytes), qgroup, dirname(path)], `cannot set the btrfs qgroup limit of ${path}`);
}

/**
 * After a subvolume was removed: wait until the file system has dropped it, then destroy its
 * qgroup if the kernel kept it (kernels before 6.x leave it behind as "stale").
 */
export function forgetSubvolumeQgroup(mountPath: string, id: number): void {
  if (!quotaEnabled(mountPath)) return;
  // The cleaner drops a deleted subvolume after the next commit: commit now rather than wait for
  // the periodic one (30 s by default).
  run(["btrfs", "filesystem", "sync", mountPath]);
  run(["btrfs", "subvolume", "sync", mountPath, String(id)], { timeout: 120 });
  const listed = run(["btrfs", "qgroup", "show", "--raw", mountPath]);
  if (!listed.stdout.split("\n").some((l) => l.trim().split(/\s+/)[0] === `0/${id}`)) return;
  const r = run(["btrfs", "qgroup", "destroy", `0/${id}`, mountPath]);
  // The kernel may remove it itself in between.
  if (r.code !== 0 && !/No such file or directory/.test(r.stderr)) {
    throw new ToolError(`cannot remove the btrfs qgroup 0/${id} of a deleted guest root: ${lastLine(r.stderr) || `exit ${r.code}`}`);
  }
}

// A guest's disk limits: dlimits/ at start and vdlimit live. The limit is the exclusive-bytes
// qgroup limit of the guest's root, which must be a btrfs subvolume (build makes it one on
// btrfs). Where that cannot be had, start says why in one warning naming the file, and vdlimit
// fails with the same reason: never a silent pass.

import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { VsError } from "../errors";
import type { GuestConfig } from "../pure/config/guest-config";
import { diskLimitsUnavailable, limitBytes, parseDiskLimit, type DiskLimit, type QuotaFacts } from "../pure/disk-limits";
import { describeStorage, storageOf } from "../drivers/unify/storage";
import { enableQuota, haveBtrfsTools, isSubvolume, limitExclusive, onBtrfs, qgroupOf, quotaEnabled } from "../drivers/btrfs";
import { qgroupReader, subvolumeIdentity, type QgroupNumbers } from "../drivers/btrfs-qgroups";
import { unifiedGenerationOf } from "./unify";
import type { Env } from "./env";

export function quotaFacts(path: string): QuotaFacts {
  const s = storageOf(path);
  return {
    type: s.type, where: describeStorage(path), options: s.options,
    xfsQuota: existsSync("/proc/fs/xfs/xqmstat"), quota: existsSync("/proc/sys/fs/quota"),
  };
}

/** Why this guest's root cannot carry a limit, or undefined when it can; `host` when the host is the reason. */
function whyNoLimit(env: Env, g: GuestConfig, root: string): { reason: string; host: boolean } | undefined {
  if (unifiedGenerationOf(env, g.name)) {
    return { host: false, reason: `guest '${g.name}' is unified: what it writes goes to its overlay's upper directory, which is not a subvolume of its own, so no qgroup counts it (docs/unification.md, "Disk limits")` };
  }
  if (!onBtrfs(root)) return { host: true, reason: diskLimitsUnavailable(quotaFacts(root)) };
  if (!haveBtrfsTools()) return { host: true, reason: "the btrfs command (btrfs-progs) is not installed" };
  if (!isSubvolume(root)) {
    return {
      host: false,
      reason: `its root ${root} is a plain directory, not a btrfs subvolume (it was built before roots were made subvolumes); to convert it, stop the guest and run 'btrfs subvolume create ${root}.new && cp -a --reflink=always ${root}/. ${root}.new/ && mv ${root} ${root}.old && mv ${root}.new ${root} && rm -rf ${root}.old'`,
    };
  }
  return undefined;
}

function realRoot(g: { vdir: string }): string {
  try {
    return realpathSync(g.vdir);
  } catch {
    return g.vdir;
  }
}

function readLimitDir(dir: string): DiskLimit | undefined {
  const files: Record<string, string | undefined> = {};
  for (const f of readdirSync(dir)) {
    try {
      files[f] = readFileSync(`${dir}/${f}`, "utf8");
    } catch {}
  }
  return parseDiskLimit(dir, files);
}

/** The directory a limit names is the guest's root: "/" as the guest sees it, or its vdir. */
function namesRoot(l: DiskLimit, root: string): boolean {
  if (l.directory === "/") return true;
  try {
    return realpathSync(l.directory) === root;
  } catch {
    return false;
  }
}

/** Quotas on for the file system of `root`, turned on (and said, once) when they were off. */
function ensureQuota(env: Env, g: GuestConfig, root: string): void {
  if (quotaEnabled(root)) return;
  enableQuota(root);
  env.warn(`btrfs quotas were turned on for ${describeStorage(root)}, for the disk limits of guest '${g.name}'; they stay on (qgroup accounting costs some write speed).`);
}

/** At start: set the guest's dlimits/ on its root's qgroup, or say why not. Bad files stop the start. */
export function applyDiskLimits(env: Env, g: GuestConfig): void {
  if (!g.diskLimits.length) return;
  const file = `${g.cfgDir}/dlimits`;
  const limits = g.diskLimits.map((n) => readLimitDir(`${file}/${n}`)).filter((l): l is DiskLimit => l !== undefined);
  if (!limits.length) return;
  const root = realRoot(g);
  const why = whyNoLimit(env, g, root);
  if (why) {
    env.warn(`${file}: disk limits are not available ${why.host ? "on this host" : "for this guest"}, because ${why.reason}; guest '${g.name}' runs without them.`);
    return;
  }
  const applied: DiskLimit[] = [];
  for (const l of limits) {
    if (!namesRoot(l, root)) {
      env.warn(`${l.dir}/directory: ${l.directory} is not the root of guest '${g.name}' (${root}); a btrfs limit covers a whole root, so this one is not applied.`);
      continue;
    }
    if (l.inodes !== undefined) env.warn(`${l.dir}/inodes_total: btrfs counts no inodes per guest, so guest '${g.name}' runs without an inode limit.`);
    if (l.reserved) env.warn(`${l.dir}/reserved: btrfs keeps no space reserved for a guest's root user, so this setting has no effect.`);
    applied.push(l);
  }
  const bytes = limitBytes(applied);
  if (bytes === undefined) return;
  ensureQuota(env, g, root);
  limitExclusive(root, bytes);
}

export interface DiskLimitState {
  root: string;
  /** Exclusive bytes of the root's qgroup; undefined while quotas are off. */
  usedBytes: number | undefined;
  limitBytes: number | undefined;
}

/** The root vdlimit works on, refusing in one sentence a root that cannot carry a limit. */
function limitableRoot(env: Env, g: GuestConfig): string {
  const root = realRoot(g);
  const why = whyNoLimit(env, g, root);
  if (why) throw new VsError(`disk limits are not available ${why.host ? "on this host" : `for guest '${g.name}'`}, because ${why.reason}.`, { guest: g.name, file: root });
  return root;
}

export function readDiskLimit(env: Env, g: GuestConfig): DiskLimitState {
  const root = limitableRoot(env, g);
  if (!quotaEnabled(root)) return { root, usedBytes: undefined, limitBytes: undefined };
  const q = qgroupOf(root);
  return { root, usedBytes: q.exclusive, limitBytes: q.maxExclusive };
}

/** Set (bytes) or remove (undefined) the guest's limit, live. */
export function setDiskLimit(env: Env, g: GuestConfig, bytes: number | undefined): void {
  const root = limitableRoot(env, g);
  if (bytes === undefined && !quotaEnabled(root)) return;
  ensureQuota(env, g, root);
  limitExclusive(root, bytes);
}

/** A guest's disk use as its root's qgroup counts it, for the API and /metrics. */
export interface DiskUsage {
  /** Exclusive bytes of the root's qgroup. */
  usedBytes: number;
  /** Absent: no limit. */
  limitBytes?: number;
}

/**
 * The disk use and limit of many guests, from the kernel's qgroup files (drivers/btrfs-qgroups.ts):
 * no process, and each file system's quota state read once. A guest is left out where nothing
 * counts what it writes: its root is not a btrfs subvolume, quotas are off there, or it is
 * unified (its writes go to its overlay's upper directory, docs/unification.md).
 */
export function diskUsageOf(env: Env, guests: Array<{ name: string; vdir: string }>): Map<string, DiskUsage> {
  const readers = new Map<string, (subvolume: number) => QgroupNumbers | undefined>();
  const out = new Map<string, DiskUsage>();
  for (const g of guests) {
    const id = subvolumeIdentity(realRoot(g));
    if (!id || unifiedGenerationOf(env, g.name)) continue;
    let read = readers.get(id.fsid);
    if (!read) readers.set(id.fsid, (read = qgroupReader(id.fsid)));
    const q = read(id.subvolume);
    if (q) out.set(g.name, { usedBytes: q.exclusive, ...(q.maxExclusive !== undefined ? { limitBytes: q.maxExclusive } : {}) });
  }
  return out;
}

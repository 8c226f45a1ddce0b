// A guest's disk limits (dlimits/): what util-vserver's files ask for, and, where the host cannot
// apply them, one reason from what its file system and kernel offer (feasibility §3). Limits are
// set as btrfs qgroup limits on guest roots that are subvolumes; project quotas on XFS or ext4
// are not set by this version, so for those the reason names what the host lacks first and this
// version's own gap last.

import { ConfigError, UsageError } from "../errors";
import { integer } from "./config/values";

function configError(file: string, what: string): ConfigError {
  return new ConfigError(`${file} ${what}.`, { file });
}

function usageError(flag: string, what: string): UsageError {
  return new UsageError(`${flag} ${what}.`);
}

export interface QuotaFacts {
  /** The file system of the guest roots: type, and a description naming device and mount point. */
  type: string;
  where: string;
  /** Its mount options. */
  options: string[];
  /** The kernel has XFS quota support (/proc/fs/xfs/xqmstat). */
  xfsQuota: boolean;
  /** The kernel has the quota subsystem (/proc/sys/fs/quota). */
  quota: boolean;
}

/** Why no limit can be set on a file system that is not btrfs. */
export function diskLimitsUnavailable(f: QuotaFacts): string {
  const prj = f.options.some((o) => o === "prjquota" || o === "pquota" || o === "pqnoenforce");
  switch (f.type) {
    case "xfs":
      if (!f.xfsQuota) return `this kernel has no XFS quota support (CONFIG_XFS_QUOTA), which the guest roots' file system (${f.where}) would need for project quotas; btrfs would serve instead`;
      if (!prj) return `the guest roots' file system (${f.where}) is not mounted with prjquota`;
      break;
    case "ext4":
      if (!f.quota) return `this kernel has no quota support (CONFIG_QUOTA), which the guest roots' file system (${f.where}) would need for project quotas; btrfs would serve instead`;
      if (!prj) return `the guest roots' file system (${f.where}) is not mounted with prjquota (and made with 'mkfs.ext4 -O quota,project')`;
      break;
    default:
      return `the guest roots' file system (${f.where}) has neither project quotas nor qgroups; btrfs would serve`;
  }
  return `this version sets limits only as btrfs qgroups, not as project quotas (the guest roots are on ${f.where}); put them on btrfs`;
}

/** One dlimits/NAME directory. */
export interface DiskLimit {
  /** The config directory dlimits/NAME, for messages. */
  dir: string;
  /** The directory it limits, as written (a host path, or "/" for the guest's root). */
  directory: string;
  /** space_total: util-vserver's unit, 1 KiB blocks. */
  spaceKiB: number;
  inodes: number | undefined;
  reserved: number | undefined;
}

/**
 * Read one dlimits/NAME directory from its files' contents; undefined when it is `disabled`.
 * `directory` and `space_total` are required; util-vserver required all four, but inodes_total
 * and reserved have no btrfs meaning, so a limit without them is complete here.
 */
export function parseDiskLimit(dir: string, files: Record<string, string | undefined>): DiskLimit | undefined {
  if (files.disabled !== undefined) return undefined;
  const directory = files.directory?.split("\n")[0]?.trim();
  if (!directory) throw configError(`${dir}/directory`, "is missing or empty: it names the directory the limit is for (the guest's root)");
  if (!directory.startsWith("/")) throw configError(`${dir}/directory`, `'${directory}' is not an absolute path`);
  const num = (key: string, min: number) => {
    const raw = files[key]?.trim();
    return raw === undefined || raw === "" ? undefined : integer(raw, `${dir}/${key}`, { min });
  };
  const spaceKiB = num("space_total", 1);
  if (spaceKiB === undefined) throw configError(`${dir}/space_total`, "is missing: it is the limit, in KiB");
  return { dir, directory, spaceKiB, inodes: num("inodes_total", 0), reserved: num("reserved", 0) };
}

/** The smallest space limit among those that apply, in bytes. */
export function limitBytes(limits: DiskLimit[]): number | undefined {
  const kib = limits.map((l) => l.spaceKiB);
  return kib.length ? Math.min(...kib) * 1024 : undefined;
}

/** vdlimit's `--set NAME=VALUE`: only space_total has a btrfs meaning; VALUE in KiB or `inf`. */
export function parseVdlimitSet(arg: string): { spaceKiB: number | undefined } {
  const m = /^([a-z_]+)=(.*)$/.exec(arg);
  if (!m) throw usageError(`--set ${arg}`, "is not LIMIT=VALUE");
  const [, name, value] = m;
  if (name === "inodes_total" || name === "reserved") {
    throw usageError(`--set ${name}`, "has no meaning on btrfs, which counts no inodes and reserves no space per guest; only space_total can be set");
  }
  if (name === "space_used" || name === "inodes_used") throw usageError(`--set ${name}`, "is counted by the file system and cannot be set");
  if (name !== "space_total") throw usageError(`--set ${name}`, "is not a disk limit (space_total, inodes_total, reserved)");
  if (value === "inf" || value === "-1") return { spaceKiB: undefined };
  if (!/^\d+$/.test(value!) || Number(value) < 1) throw usageError(`--set space_total=${value}`, "is not a number of KiB (at least 1) or inf");
  return { spaceKiB: Number(value) };
}

/** vdlimit's report, util-vserver's `name=value` lines; btrfs counts bytes, not inodes. */
export function formatDiskLimit(usedBytes: number | undefined, limitBytes: number | undefined): string {
  const kib = (b: number) => String(Math.ceil(b / 1024));
  return `space_used=${usedBytes === undefined ? "unknown" : kib(usedBytes)}\nspace_total=${limitBytes === undefined ? "inf" : kib(limitBytes)}\n`;
}

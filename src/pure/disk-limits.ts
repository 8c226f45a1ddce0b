// Why a guest's disk limits (dlimits/) cannot be had on this host: one reason, from what the
// host's file system and kernel offer (feasibility §3). Limits are charged by project quotas on
// XFS or ext4, or by btrfs qgroups; this version sets neither yet, so the reason names what the
// host lacks first and this version's own gap last.

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

export function diskLimitsUnavailable(f: QuotaFacts): string {
  const prj = f.options.some((o) => o === "prjquota" || o === "pquota" || o === "pqnoenforce");
  switch (f.type) {
    case "xfs":
      if (!f.xfsQuota) return `this kernel has no XFS quota support (CONFIG_XFS_QUOTA), which the guest roots' file system (${f.where}) would need for project quotas`;
      if (!prj) return `the guest roots' file system (${f.where}) is not mounted with prjquota`;
      break;
    case "ext4":
      if (!f.quota) return `this kernel has no quota support (CONFIG_QUOTA), which the guest roots' file system (${f.where}) would need for project quotas`;
      if (!prj) return `the guest roots' file system (${f.where}) is not mounted with prjquota (and made with 'mkfs.ext4 -O quota,project')`;
      break;
    case "btrfs":
      return `this version does not set btrfs qgroups yet (the guest roots are on ${f.where})`;
    default:
      return `the guest roots' file system (${f.where}) has no project quotas; XFS or ext4 with prjquota, or btrfs, would`;
  }
  return `this version does not set project quotas yet (the guest roots are on ${f.where}, which could hold them)`;
}

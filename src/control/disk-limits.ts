// dlimits/ at start: a guest whose config asks for disk limits is told, in one warning naming
// the file and the host's reason, that it runs without them, never silently.

import { existsSync } from "node:fs";
import type { GuestConfig } from "../pure/config/guest-config";
import { diskLimitsUnavailable, type QuotaFacts } from "../pure/disk-limits";
import { describeStorage, storageOf } from "../drivers/unify/storage";
import type { Env } from "./env";

export function quotaFacts(path: string): QuotaFacts {
  const s = storageOf(path);
  return {
    type: s.type, where: describeStorage(path), options: s.options,
    xfsQuota: existsSync("/proc/fs/xfs/xqmstat"), quota: existsSync("/proc/sys/fs/quota"),
  };
}

export function warnDiskLimits(env: Env, g: GuestConfig): void {
  if (!g.diskLimits.length) return;
  const reason = diskLimitsUnavailable(quotaFacts(env.paths.vdirBase));
  env.warn(`${g.cfgDir}/dlimits: disk limits are not available on this host, because ${reason}; guest '${g.name}' runs without them.`);
}

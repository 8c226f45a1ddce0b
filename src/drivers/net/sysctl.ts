// Per-device network sysctls, read and written through /proc/sys (device names may contain dots,
// which sysctl(8) would take for separators).

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { ToolError } from "../../errors";

export function devSysctlPath(family: 4 | 6, dev: string, key: string): string {
  return `/proc/sys/net/ipv${family}/conf/${dev}/${key}`;
}

export function hasDevSysctl(family: 4 | 6, dev: string, key: string): boolean {
  return existsSync(devSysctlPath(family, dev, key));
}

export function readDevSysctl(family: 4 | 6, dev: string, key: string): string | undefined {
  try {
    return readFileSync(devSysctlPath(family, dev, key), "utf8").trim();
  } catch {
    return undefined;
  }
}

export function writeDevSysctl(family: 4 | 6, dev: string, key: string, value: string): void {
  try {
    writeFileSync(devSysctlPath(family, dev, key), value);
  } catch (e) {
    throw new ToolError(`cannot set net.ipv${family}.conf.${dev}.${key}=${value}: ${(e as Error).message}`);
  }
}

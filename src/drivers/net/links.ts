// Host devices as /sys/class/net shows them.

import { existsSync, readdirSync } from "node:fs";

export function linkExists(dev: string): boolean {
  return existsSync(`/sys/class/net/${dev}`);
}

export function isBridge(dev: string): boolean {
  return existsSync(`/sys/class/net/${dev}/bridge`);
}

/** Links enslaved to a bridge. */
export function bridgePorts(br: string): string[] {
  try {
    return readdirSync(`/sys/class/net/${br}/brif`);
  } catch {
    return [];
  }
}

/** Host links whose names start with prefix (leftovers of a start that never wrote its state). */
export function linksWithPrefix(prefix: string): string[] {
  try {
    return readdirSync("/sys/class/net").filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}

// The runtime creates the mount points a guest's mounts need (dev, proc, sys, tmp, an fstab
// target) in the guest root when they are missing. A start that fails must not leave them there,
// nor in whatever directory `vdir` names: the ones that were missing before are noted, and after a
// failure removed again, deepest first, and only while empty. Guest roots are hostile, so every
// step resolves inside the root (drivers/safe-fs.ts).

import { lstatSync } from "node:fs";
import { GuestRoot } from "./safe-fs";

/**
 * Mount targets (absolute inside the guest) and their parents that do not exist yet, deepest
 * first. Only a guess to be checked later, so plain lstat is enough here (and spares loading the
 * openat2 binding on every start): whatever a guest's links make it answer, the removal itself
 * resolves inside the root and removes nothing but empty directories.
 */
export function missingMountPoints(root: string, targets: string[]): string[] {
  const missing = new Set<string>();
  for (const t of targets) {
    const parts = t.split("/").filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const rel = parts.slice(0, i).join("/");
      if (!missing.has(rel) && !lstatSync(`${root}/${rel}`, { throwIfNoEntry: false })) missing.add(rel);
    }
  }
  return [...missing].sort((a, b) => b.split("/").length - a.split("/").length);
}

export function removeMountPoints(root: string, made: string[]): void {
  if (!made.length) return;
  let r: GuestRoot;
  try {
    r = new GuestRoot(root);
  } catch {
    return;
  }
  try {
    for (const rel of made) r.removeEmptyDir(rel);
  } finally {
    r.close();
  }
}

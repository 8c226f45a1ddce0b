// util-vserver's barrier: the directory holding the guest roots is closed to everyone but the
// host's root (mode 000). Guest root may make any file in its own tree, a setuid-root program
// included, and a guest's files keep their owners on disk (drivers/userns-mounts.ts): without
// the barrier a host user could run that program from outside as the host's root.

import { chmodSync, mkdirSync, statSync } from "node:fs";

/** Make `dir` (and its parents) if missing, closed; returns its old mode when that was weaker. */
export function closeBarrier(dir: string): number | undefined {
  let mode: number | undefined;
  try {
    mode = statSync(dir).mode & 0o7777;
  } catch {
    mkdirSync(dir.slice(0, dir.lastIndexOf("/")) || "/", { recursive: true, mode: 0o755 });
    mkdirSync(dir, { mode: 0 });
  }
  if (mode === 0) return undefined;
  chmodSync(dir, 0);
  return mode;
}

export function describeMode(mode: number): string {
  return mode.toString(8).padStart(4, "0");
}

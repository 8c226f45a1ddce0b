// The runtime's cgroup view (drivers/runtime/cgroup-view.ts) is shared by all guests: it is made
// by the first start and released when the last guest is gone. One global lock orders the two.

import { acquireLock } from "../drivers/lock";
import { releaseView } from "../drivers/runtime/cgroup-view";
import { readdirSync } from "node:fs";
import type { Env } from "./env";

export function viewLock(env: Env) {
  return acquireLock(env.paths.lockDir, ".runtime-view", "the runtime's cgroup view", 60);
}

export async function releaseViewIfUnused(env: Env): Promise<void> {
  const rt = env.runtime();
  if (!rt.view) return;
  const lock = await viewLock(env);
  try {
    // The runtime keeps one directory per container in its state dir: reading it spares a `crun list`.
    let left: string[] = [];
    try {
      left = readdirSync(rt.stateDir);
    } catch {}
    if (left.length === 0) releaseView(rt.view);
  } finally {
    lock.release();
  }
}

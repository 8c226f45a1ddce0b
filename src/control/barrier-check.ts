// The barrier at start: a guest whose root lies in the directory of guest roots does not start
// while other users can pass through that directory; a weaker mode is closed again, with a warning
// (util-vserver's barrier, drivers/barrier.ts).

import { closeBarrier, describeMode } from "../drivers/barrier";
import type { GuestConfig } from "../pure/config/guest-config";
import type { Env } from "./env";

export function barrierWarning(dir: string, was: number): string {
  return `${dir} was mode ${describeMode(was)}: closed again (mode 0000), since a host user could otherwise run programs a guest planted in its root.`;
}

/** Guests whose vdir lies elsewhere are the administrator's to protect (docs/security.md). */
export function checkBarrier(env: Env, g: GuestConfig): void {
  if (!g.vdir.startsWith(env.paths.vdirBase + "/")) return;
  const was = closeBarrier(env.paths.vdirBase);
  if (was !== undefined) env.warn(barrierWarning(env.paths.vdirBase, was));
}

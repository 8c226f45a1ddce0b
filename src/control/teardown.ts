// Removing everything a guest's start made: the runtime container, its cgroups, the run record,
// the bundle, and (when no guest is left) the runtime's cgroup view. Used by stop, by a failed
// start, and by a start or stop that finds the leftovers of a killed command.

import { guestPaths } from "../pure/paths";
import { rmSync } from "node:fs";
import { guestCgroupPath, removeGuestCgroups } from "../drivers/cgroup/guest-cgroups";
import { forgetInView } from "../drivers/runtime/cgroup-view";
import { removeRunRecord } from "../drivers/run-state";
import { deleteContainer } from "../drivers/runtime/oci-runtime";
import type { Env } from "./env";
import { teardownGuestNetwork } from "./network";
import { releaseViewIfUnused } from "./runtime-view";
import { faultPoint } from "../drivers/fault";
import { unmountForUserns, usernsMountPaths } from "../drivers/userns-mounts";

export function bundleDir(env: Env, name: string): string {
  return guestPaths(env.paths, name).bundle;
}

export async function teardownGuest(env: Env, name: string, context: number | undefined): Promise<void> {
  const rt = env.runtimeOf(name);
  deleteContainer(rt, name);
  faultPoint("teardown.after-container");
  unmountForUserns(rt, usernsMountPaths(env.paths, name));
  await removeGuestCgroups(env.paths.cgroupParent, context);
  if (rt.view && context !== undefined) forgetInView(rt.view, guestCgroupPath(env.paths.cgroupParent, context));
  await teardownGuestNetwork(env, name);
  faultPoint("teardown.before-records");
  removeRunRecord(env.paths, name);
  rmSync(bundleDir(env, name), { recursive: true, force: true });
  await releaseViewIfUnused(env);
}

// A `plain` guest whose own init is systemd (Debian's systemd-sysv makes /sbin/init a link to it).
// systemd boots in a container only when the container gives it what systemd.io's container
// interface asks for; what this project gives it, and why each piece, is in docs/runtime.md
// ("systemd as a guest's PID 1"). This file tells such a guest apart, prepares the one cgroup it
// manages, and halts it the way systemd expects.

import { VsError } from "../errors";
import { delegateSystemdCgroup, systemdHierarchy } from "../drivers/cgroup/systemd-hierarchy";
import { GuestRoot } from "../drivers/safe-fs";
import type { GuestConfig } from "../pure/config/guest-config";
import type { IdRange } from "../pure/id-range";
import type { InitPlan } from "./init-style";
import type { Env } from "./env";

/** SIGRTMIN+3 (34 + 3 on Linux): systemd's "halt", which container managers stop it with. */
export const SYSTEMD_HALT_SIGNAL = 37;

/**
 * PID 1 is the guest's own systemd: the plan runs the guest's own init (no guest init of ours)
 * and its program, resolved inside the guest's root, is named systemd. `root` is where the
 * guest's files are seen from the host.
 */
export function ownInitIsSystemd(plan: InitPlan, root: string): boolean {
  const program = plan.pid1[0];
  if (plan.guestInit || !program?.startsWith("/")) return false;
  let r: GuestRoot;
  try {
    r = new GuestRoot(root);
  } catch {
    return false;
  }
  try {
    return r.resolvedName(program) === "systemd";
  } finally {
    r.close();
  }
}

/**
 * The guest's own name=systemd cgroup, made and (in a user namespace) handed to its root before
 * the runtime starts it; its host path, for the spec. A host without that hierarchy (pure cgroup
 * v2) cannot give systemd 252's legacy mode what it needs: one sentence says so.
 */
export function systemdCgroupFor(g: GuestConfig, cgroupsPath: string, ids: IdRange | undefined): string {
  const h = systemdHierarchy();
  if (!h) {
    throw new VsError(`guest '${g.name}': its init is systemd, which needs a name=systemd cgroup hierarchy to manage, and this host has none (a pure cgroup v2 host); systemd as PID 1 is supported on cgroup v1 and hybrid hosts only.`, { guest: g.name });
  }
  return delegateSystemdCgroup(h, cgroupsPath, ids?.base);
}

/**
 * systemd narrows each unit's bounding set (CapabilityBoundingSet=, journald's and logind's
 * among them), which needs SETPCAP; without it those units fail with status 218/CAPABILITIES.
 * The whitelist leaves it out, and adding it is the admin's call: said once at start.
 */
export function warnSystemdCapabilities(env: Env, g: GuestConfig): void {
  if (g.capabilities.includes("SETPCAP")) return;
  env.warn(`${g.cfgDir}/bcapabilities: guest '${g.name}' runs systemd, whose units with CapabilityBoundingSet= (systemd-journald among them) fail without SETPCAP; add it there.`);
}

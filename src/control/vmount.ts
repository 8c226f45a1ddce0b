// vmount: mount something into a running guest (util-vserver's vmount, reference §1.2). The
// source is the host's, the target the guest's; dist/vserver-mount-into makes the mount on the
// host and attaches it inside the guest's mount namespace, where the target is resolved in the
// guest's root (src/native/mount-into.c says why that is safe). Mounts are nosuid and nodev
// unless asked otherwise, and idmapped for a guest with its own user namespace.

import { readlinkSync } from "node:fs";
import { ToolError } from "../errors";
import { builtFile } from "../drivers/built-files";
import { lastLine, run } from "../drivers/process";
import { mountAttrBits, type VmountPlan } from "../pure/vmount-args";
import type { Env } from "./env";
import { journal, liveTarget } from "./live-target";

export function mountIntoGuest(env: Env, spec: string, plan: VmountPlan): void {
  const helper = builtFile("vserver-mount-into");
  if (!helper) throw new ToolError("the mount helper (dist/vserver-mount-into) is missing; run 'make' in the vserver checkout.");
  const t = liveTarget(env, spec);
  const ownUserns = readlinkSync(`/proc/${t.pid}/ns/user`) !== readlinkSync("/proc/self/ns/user");
  const what = plan.kind === "bind" ? ["bind", plan.source, plan.recursive ? "1" : "0"] : ["fs", plan.type!, plan.source, ...plan.fsOptions];
  const r = run([helper, `/proc/${t.pid}/ns/mnt`, ownUserns ? `/proc/${t.pid}/ns/user` : "-", String(mountAttrBits(plan)), plan.target, ...what]);
  const ok = r.code === 0;
  journal(env, t, "vmount", ok, { source: plan.source, target: plan.target, ...(plan.type ? { type: plan.type } : {}) });
  if (!ok) {
    const why = (lastLine(r.stderr) || `exit status ${r.code}`).replace(/^vserver-mount-into: /, "");
    throw new ToolError(`cannot mount ${plan.source} on ${plan.target} in ${t.label}: ${why}.`);
  }
}

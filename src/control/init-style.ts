// What runs as the guest's PID 1 and which commands start and stop it, per init style
// (reference §6.1). Styles whose start command is a script (sysv, ...) get a reaper as PID 1, so
// that orphans are reaped and the guest lives on after the script ends.

import type { GuestConfig } from "../pure/config/guest-config";
import { REAPER_IN_GUEST } from "../pure/spec/oci-spec";

export interface InitPlan {
  /** PID 1's argv inside the guest. */
  pid1: string[];
  /** Commands tried in order to start the guest's services (the first that exists is used). */
  start: string[][];
  /** Commands tried in order before the kill sequence at stop. */
  stop: string[][];
}

export function initPlan(g: GuestConfig): InitPlan {
  const reaper = [REAPER_IN_GUEST, "-P"];
  if (g.initStyle === "plain") {
    return { pid1: g.cmdStart ?? ["/sbin/init"], start: [], stop: g.cmdStop ? [g.cmdStop] : [] };
  }
  const rl = g.runlevelStart;
  const rls = g.runlevelStop;
  const byStyle: Record<string, { start: string[][]; stop: string[][] }> = {
    sysv: {
      start: [["/etc/init.d/rc", rl], ["/etc/rc.d/rc", rl]],
      stop: [["/etc/init.d/rc", rls], ["/etc/rc.d/rc", rls]],
    },
    minit: { start: [["/sbin/minit-start", rl]], stop: [["/sbin/minit-stop", rls]] },
    gentoo: { start: [["/lib/rc/sh/init-vserver.sh", rl], ["/lib/rcscripts/sh/init-vserver.sh", rl]], stop: [["/sbin/rc", "shutdown"]] },
    openrc: { start: [["/lib/rc/sh/init-vserver.sh", rl], ["/lib/rcscripts/sh/init-vserver.sh", rl]], stop: [["/sbin/rc", "shutdown"]] },
    arch: { start: [["/etc/rc.multi"]], stop: [["/etc/rc.shutdown"]] },
  };
  const s = byStyle[g.initStyle]!;
  return {
    pid1: reaper,
    start: g.cmdStart ? [g.cmdStart] : s.start,
    stop: g.cmdStop ? [g.cmdStop] : s.stop,
  };
}

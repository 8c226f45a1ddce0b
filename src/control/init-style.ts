// What runs as the guest's PID 1 and which commands start and stop it, per init style
// (reference §6.1). Styles whose start command is a script (sysv, ...) get our guest init as PID 1
// (src/native/guest-init.c): it runs the start command itself, reaps orphans so the guest lives on
// after the script ends, and runs the stop command when `vserver stop` asks.

import type { GuestConfig } from "../pure/config/guest-config";
import { guestInitArgv } from "../pure/guest-init";

export interface InitPlan {
  /** PID 1's argv inside the guest. */
  pid1: string[];
  /** PID 1 is our guest init, which runs `start` and `stop` itself. */
  guestInit: boolean;
  /** Commands tried in order to start the guest's services (the first that exists is used). */
  start: string[][];
  /** Commands tried in order before the kill sequence at stop. */
  stop: string[][];
}

export function initPlan(g: GuestConfig): InitPlan {
  if (g.initStyle === "plain") {
    return { pid1: g.cmdStart ?? ["/sbin/init"], guestInit: false, start: [], stop: g.cmdStop ? [g.cmdStop] : [] };
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
  const start = g.cmdStart ? [g.cmdStart] : s.start;
  const stop = g.cmdStop ? [g.cmdStop] : s.stop;
  return { pid1: guestInitArgv(start, stop), guestInit: true, start, stop };
}

/** util-vserver's default rescue command: something that keeps the guest alive for a while. */
export const RESCUE_DEFAULT = ["/bin/sleep", "900"];

/**
 * `start --rescue [--rescue-init] [CMD ARGS]`: none of the guest's own init or scripts run, so a
 * guest whose init is broken can be entered and repaired. With `asInit` CMD (default
 * RESCUE_DEFAULT) is PID 1 itself and the guest lives as long as it does; otherwise our guest init
 * is PID 1 and keeps the guest alive until `stop`, and CMD, if given, is started beside it.
 * Neither has a stop command: stop goes straight to the kill sequence.
 */
export function rescuePlan(cmd: string[] | undefined, asInit: boolean): InitPlan {
  if (asInit) return { pid1: cmd ?? RESCUE_DEFAULT, guestInit: false, start: [], stop: [] };
  return { pid1: guestInitArgv([], [], cmd ? [cmd] : []), guestInit: true, start: [], stop: [] };
}

import { describe, expect, test } from "bun:test";
import { GUEST_INIT_PATH, guestInitArgv } from "../../src/pure/guest-init";
import { RESCUE_DEFAULT, rescuePlan } from "../../src/control/init-style";

describe("rescue plans", () => {
  test("without --rescue-init: our guest init, no start or stop command, CMD as its 'run' group", () => {
    expect(rescuePlan(undefined, false)).toEqual({ pid1: [GUEST_INIT_PATH], guestInit: true, start: [], stop: [] });
    expect(rescuePlan(["/bin/sh", "-c", "fsck"], false).pid1).toEqual([GUEST_INIT_PATH, "run", "3", "/bin/sh", "-c", "fsck"]);
  });

  test("with --rescue-init: CMD itself is PID 1, util-vserver's sleep by default", () => {
    expect(rescuePlan(undefined, true)).toEqual({ pid1: RESCUE_DEFAULT, guestInit: false, start: [], stop: [] });
    expect(rescuePlan(["/bin/bash"], true).pid1).toEqual(["/bin/bash"]);
  });

  test("the guest init's argv keeps start, stop and run groups in that order", () => {
    expect(guestInitArgv([["/etc/init.d/rc", "3"]], [["/etc/init.d/rc", "6"]], [["/bin/true"]])).toEqual(
      [GUEST_INIT_PATH, "start", "2", "/etc/init.d/rc", "3", "stop", "2", "/etc/init.d/rc", "6", "run", "1", "/bin/true"],
    );
  });
});

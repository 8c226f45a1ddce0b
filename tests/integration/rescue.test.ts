// Rescue starts (a guest without its own init, to repair it), naming a guest by context number or
// config directory, and util-vserver's global options: honoured, or refused with a sentence.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { TestHost, busyboxGuest } from "../helpers/host";

let h: TestHost;

beforeAll(() => {
  h = new TestHost("rescue");
  // A guest whose start command fails, so that only a rescue start gets it running; its stop
  // command leaves a mark, which a rescue stop must not.
  busyboxGuest(h, "broken", { "apps/init/cmd.start": "/bin/false\n", "apps/init/cmd.stop": "/bin/touch\n/stop-ran\n", context: "41234\n" });
});

afterAll(() => {
  h.cleanup();
});

const pid1Cmdline = (name: string) => h.inGuest(name, "cat", "/proc/1/cmdline").stdout.split("\0").filter(Boolean);

describe("start --rescue", () => {
  test("a guest whose init fails starts in rescue mode: our reaper as PID 1, none of its scripts", () => {
    expect(h.vserver("broken", "start").code).not.toBe(0);
    const r = h.vserver("broken", "start", "--rescue");
    expect(r.code).toBe(0);
    expect(h.vserver("broken", "running").code).toBe(0);
    expect(pid1Cmdline("broken")[0]).toBe("/dev/.vserver-init");
    expect(pid1Cmdline("broken")).not.toContain("/bin/false");
    h.ok("broken", "stop");
    expect(existsSync(`${h.vdir("broken")}/stop-ran`)).toBe(false);
    expect(h.vserver("broken", "running").code).toBe(1);
    expect(h.leftovers()).toEqual([]);
  });

  test("a rescue command runs beside the reaper; the guest lives on after it ends", async () => {
    const r = h.vserver("broken", "start", "--rescue", "/bin/touch", "/rescued");
    expect(r.code).toBe(0);
    const end = Date.now() + 5000;
    while (!existsSync(`${h.vdir("broken")}/rescued`) && Date.now() < end) await Bun.sleep(50);
    expect(existsSync(`${h.vdir("broken")}/rescued`)).toBe(true);
    await Bun.sleep(200);
    expect(h.vserver("broken", "running").code).toBe(0);
    h.ok("broken", "stop");
    rmSync(`${h.vdir("broken")}/rescued`);
  });

  test("--rescue-init makes the command PID 1 (default /bin/sleep 900); stop --rescue-init", () => {
    h.ok("broken", "start", "--rescue", "--rescue-init");
    expect(pid1Cmdline("broken")).toEqual(["/bin/sleep", "900"]);
    h.ok("broken", "stop", "--rescue-init");
    expect(h.vserver("broken", "running").code).toBe(1);
    h.ok("broken", "start", "--rescue", "--rescue-init", "/bin/sleep", "1000");
    expect(pid1Cmdline("broken")).toEqual(["/bin/sleep", "1000"]);
    h.ok("broken", "stop");
    expect(existsSync(`${h.vdir("broken")}/stop-ran`)).toBe(false);
    expect(h.leftovers()).toEqual([]);
  });

  test("after a rescue, a plain start is the guest's own again; bad rescue arguments get one sentence", () => {
    rmSync(`${h.cfg("broken")}/apps/init/cmd.start`);
    h.ok("broken", "start");
    expect(pid1Cmdline("broken")).toContain("/etc/init.d/rc");
    h.ok("broken", "stop");
    expect(existsSync(`${h.vdir("broken")}/stop-ran`)).toBe(true);
    writeFileSync(`${h.cfg("broken")}/apps/init/cmd.start`, "/bin/false\n");
    const alone = h.vserver("broken", "start", "--rescue-init");
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain("--rescue-init goes with --rescue");
    const relative = h.vserver("broken", "start", "--rescue", "sleep", "1");
    expect(relative.code).toBe(2);
    expect(relative.stderr).toContain("absolute path");
    expect(h.vserver("broken", "stop", "--bogus").code).toBe(2);
    expect(h.vserver("broken", "running").code).toBe(1);
  });
});

describe("vserver XID|CFGDIR and the global options", () => {
  test("a guest named by its context number or its config directory", () => {
    expect(h.vserver("41234", "running").code).toBe(1);
    h.ok("broken", "start", "--rescue");
    expect(h.vserver("41234", "running").code).toBe(0);
    expect(h.vserver(h.cfg("broken"), "running").code).toBe(0);
    expect(h.vserver(`${h.cfg("broken")}/`, "status").stdout).toContain("broken");
    const elsewhere = h.vserver("/tmp", "running");
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain("is not a guest's config directory");
    const nobody = h.vserver("65000", "running");
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain("none with context 65000");
    h.ok("41234", "stop");
  });

  test("-v, --verbose and --sync are accepted; --debug adds where an error happened; --defaulttty is refused", () => {
    expect(h.vserver("-v", "--sync", "broken", "running").code).toBe(1);
    expect(h.vserver("--verbose", "broken", "status").code).toBe(3);
    const tty = h.vserver("--defaulttty", "broken", "start");
    expect(tty.code).toBe(2);
    expect(tty.stderr).toContain("--defaulttty is not supported");
    const plain = h.vserver("nosuch", "start");
    const debug = h.vserver("--debug", "nosuch", "start");
    expect(plain.stderr.trim().split("\n")).toHaveLength(1);
    expect(debug.stderr.split("\n").length).toBeGreaterThan(2);
    expect(debug.stderr).toContain("    at ");
  });
});

// Debian's own shutdown tools in real Debian guests (tests/helpers/debian.ts, packages cached in
// /var/cache/vservers-test): sysvinit's reboot, halt, poweroff and
// shutdown, and systemd's (systemctl under those names, when systemd is installed but our guest
// init is PID 1), restart the guest in place or end it through our guest init, which answers them
// on /run/initctl as sysvinit's own init would.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { TestHost } from "../helpers/host";
import { debianGuest } from "../helpers/debian";

const h = new TestHost("tbdeb");

beforeAll(() => {
  // sysvinit-core brings Debian's reboot, halt, poweroff and shutdown (minbase has none).
  debianGuest(h, "deb", { include: ["sysvinit-core"] });
}, 1_800_000);

afterAll(() => h.cleanup());

function pid1(name = "deb"): number | undefined {
  try {
    return JSON.parse(readFileSync(`${h.runDir}/${name}`, "utf8")).pid;
  } catch {
    return undefined;
  }
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));

async function until(cond: () => boolean, seconds = 60): Promise<boolean> {
  const end = Date.now() + seconds * 1000;
  while (!cond()) {
    if (Date.now() > end) return false;
    await Bun.sleep(100);
  }
  return true;
}

const restarts = (name = "deb") => (readFileSync(`${h.logDir}/${name}.log`, "utf8").match(/=== vserver-init: restarting the guest/g) ?? []).length;

function exits(name = "deb"): Array<Record<string, unknown>> {
  return readFileSync(`${h.logDir}/events.log`, "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.op === "exit" && e.guest === name);
}

describe("Debian's sysvinit tools in a guest", () => {
  for (const argv of [["reboot"], ["shutdown", "-r", "now"]]) {
    test(`${argv.join(" ")} restarts the guest in place`, async () => {
      if (!pid1() || !alive(pid1()!)) h.ok("deb", "start");
      const pid = pid1()!;
      const before = restarts();
      // A service of the guest's that the restart must end.
      expect(h.inGuest("deb", "sh", "-c", "setsid sleep 1000 </dev/null >/dev/null 2>&1 &").code).toBe(0);
      expect(h.inGuest("deb", "test", "-p", "/run/initctl").code).toBe(0);
      const r = h.inGuest("deb", ...argv);
      expect(r.code).toBe(0);
      expect(await until(() => restarts() === before + 1)).toBe(true);
      expect(pid1()).toBe(pid);
      expect(h.vserver("deb", "running").code).toBe(0);
      expect(await until(() => h.inGuest("deb", "pidof", "sleep").code === 1, 20)).toBe(true);
    }, 180_000);
  }

  for (const argv of [["halt"], ["poweroff"], ["shutdown", "-h", "now"]]) {
    test(`${argv.join(" ")} ends the guest; the next command cleans up and journals a halt`, async () => {
      if (!pid1() || !alive(pid1()!)) h.ok("deb", "start");
      const pid = pid1()!;
      const before = exits().length;
      expect(h.inGuest("deb", ...argv).code).toBe(0);
      expect(await until(() => !alive(pid))).toBe(true);
      expect(h.vserver("deb", "running").code).toBe(1);
      expect(existsSync(`${h.runDir}/deb`)).toBe(false);
      const e = exits();
      expect(e).toHaveLength(before + 1);
      expect(e.at(-1)!.how).toBe("halt");
    }, 180_000);
  }
});

describe("systemd's reboot, halt and shutdown in a guest whose PID 1 is our init", () => {
  beforeAll(() => {
    debianGuest(h, "sd", { include: ["systemd-sysv"] });
  }, 1_800_000);

  test("they are systemctl, which falls back to /run/initctl: reboot restarts in place, poweroff ends the guest", async () => {
    h.ok("sd", "start");
    expect(h.inGuest("sd", "readlink", "-f", "/sbin/reboot").stdout.trim()).toBe("/usr/bin/systemctl");
    const pid = pid1("sd")!;
    for (const argv of [["reboot"], ["shutdown", "-r", "now"]]) {
      const before = restarts("sd");
      expect(h.inGuest("sd", ...argv).code).toBe(0);
      expect(await until(() => restarts("sd") === before + 1)).toBe(true);
      expect(pid1("sd")).toBe(pid);
    }
    expect(h.inGuest("sd", "poweroff").code).toBe(0);
    expect(await until(() => !alive(pid))).toBe(true);
    expect(h.vserver("sd", "running").code).toBe(1);
    expect(exits("sd").at(-1)!.how).toBe("halt");
  }, 300_000);
});

// Restart and halt from inside a guest: busybox's reboot, halt and poweroff signal PID 1 (our
// guest init), which restarts the guest in place or ends it; the host's next look cleans up after
// a guest that ended by itself and journals it. Signals from the host do not count.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, readFileSync, writeFileSync, symlinkSync, chmodSync } from "node:fs";
import { TestHost, busyboxGuest, BIN } from "../helpers/host";

let h: TestHost;

beforeAll(() => {
  h = new TestHost("reboot");
});

afterAll(() => {
  h.cleanup();
});

/** A busybox guest whose rc start and stop append to /boots, so each run of them can be counted. */
function countingGuest(name: string): void {
  busyboxGuest(h, name);
  const root = h.vdir(name);
  writeFileSync(`${root}/etc/init.d/mark`, "#!/bin/sh\necho \"$1\" >> /boots\n");
  chmodSync(`${root}/etc/init.d/mark`, 0o755);
  symlinkSync("../init.d/mark", `${root}/etc/rc3.d/S10mark`);
  symlinkSync("../init.d/mark", `${root}/etc/rc6.d/K10mark`);
}

function boots(name: string): string[] {
  try {
    return readFileSync(`${h.vdir(name)}/boots`, "utf8").trim().split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

function runRecord(name: string): { pid: number; cgroupPath: string } | undefined {
  try {
    return JSON.parse(readFileSync(`${h.runDir}/${name}`, "utf8"));
  } catch {
    return undefined;
  }
}

function journal(): Array<Record<string, unknown>> {
  return readFileSync(`${h.logDir}/events.log`, "utf8").trim().split("\n").map((l) => JSON.parse(l));
}

async function until(cond: () => boolean, seconds = 20): Promise<boolean> {
  const end = Date.now() + seconds * 1000;
  while (!cond()) {
    if (Date.now() > end) return false;
    await Bun.sleep(50);
  }
  return true;
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));

describe("reboot, halt and poweroff inside a guest", () => {
  test("busybox reboot restarts the guest in place: stop command, every process killed, start command again", async () => {
    countingGuest("rb");
    h.ok("rb", "start");
    const pid1 = runRecord("rb")!.pid;
    expect(boots("rb")).toEqual(["start"]);
    // A service that would outlive a restart if the init did not kill everything.
    expect(h.inGuest("rb", "sh", "-c", "setsid sleep 1000 </dev/null >/dev/null 2>&1 &").code).toBe(0);
    expect(h.inGuest("rb", "pidof", "sleep").code).toBe(0);
    const r = h.inGuest("rb", "reboot");
    expect(r.code).toBe(0);
    expect(await until(() => boots("rb").length === 3)).toBe(true);
    expect(boots("rb")).toEqual(["start", "stop", "start"]);
    // The same PID 1: no host process took part.
    expect(runRecord("rb")!.pid).toBe(pid1);
    expect(h.vserver("rb", "running").code).toBe(0);
    expect(h.inGuest("rb", "pidof", "sleep").code).toBe(1);
    expect(readFileSync(`${h.logDir}/rb.log`, "utf8")).toContain("=== vserver-init: restarting the guest");
    // It still stops as usual afterwards.
    h.ok("rb", "stop");
    expect(boots("rb")).toEqual(["start", "stop", "start", "stop"]);
    expect(h.leftovers()).toEqual([]);
  });

  test("busybox halt ends the guest; the next command cleans up and journals it", async () => {
    countingGuest("ht");
    h.ok("ht", "start");
    const rec = runRecord("ht")!;
    expect(h.inGuest("ht", "halt").code).toBe(0);
    expect(await until(() => !alive(rec.pid))).toBe(true);
    expect(boots("ht")).toEqual(["start", "stop"]);
    // Nothing on the host has noticed yet: the run record is still there.
    expect(existsSync(`${h.runDir}/ht`)).toBe(true);
    expect(h.vserver("ht", "running").code).toBe(1);
    expect(existsSync(`${h.runDir}/ht`)).toBe(false);
    expect(existsSync(`/sys/fs/cgroup/pids/${rec.cgroupPath}`)).toBe(false);
    const ev = journal().filter((e) => e.op === "exit" && e.guest === "ht");
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ ok: true, how: "halt" });
    // And it starts again.
    h.ok("ht", "start");
    expect(boots("ht")).toEqual(["start", "stop", "start"]);
    h.ok("ht", "stop");
  });

  test("busybox poweroff ends the guest; vserver-stat and --list clean up", async () => {
    countingGuest("po");
    h.ok("po", "start");
    const rec = runRecord("po")!;
    expect(h.inGuest("po", "poweroff").code).toBe(0);
    expect(await until(() => !alive(rec.pid))).toBe(true);
    const stat = h.run("vserver-stat", []);
    expect(stat.code).toBe(0);
    expect(stat.stdout).not.toContain("po");
    expect(existsSync(`${h.runDir}/po`)).toBe(false);
    expect(journal().filter((e) => e.op === "exit" && e.guest === "po")).toHaveLength(1);
    const list = h.vserver("--list", "--json");
    expect(JSON.parse(list.stdout).find((g: { name: string }) => g.name === "po").running).toBe(false);
  });

  test("the host's own SIGTERM, SIGUSR1 or SIGUSR2 to PID 1 is not a request: only the guest may ask", async () => {
    countingGuest("hs");
    h.ok("hs", "start");
    const pid1 = runRecord("hs")!.pid;
    for (const sig of ["SIGTERM", "SIGUSR1", "SIGUSR2"] as const) process.kill(pid1, sig);
    await Bun.sleep(1500);
    expect(alive(pid1)).toBe(true);
    expect(boots("hs")).toEqual(["start"]);
    h.ok("hs", "stop");
  });

  test("a service of the guest may halt it too (kill -USR1 1 is what busybox halt does)", async () => {
    countingGuest("slow");
    writeFileSync(`${h.vdir("slow")}/etc/init.d/mark`, "#!/bin/sh\necho \"$1\" >> /boots\n[ \"$1\" = start ] && [ ! -e /once ] && touch /once && (sleep 1; kill -USR1 1) &\nexit 0\n");
    h.ok("slow", "start");
    const pid1 = runRecord("slow")!.pid;
    expect(await until(() => !alive(pid1))).toBe(true);
    expect(boots("slow")).toEqual(["start", "stop"]);
    expect(h.vserver("slow", "running").code).toBe(1);
  });

  test("sysvinit's /run/initctl (Debian's shutdown and telinit, systemd's reboot without systemd) reboots and halts", async () => {
    countingGuest("ctl");
    h.ok("ctl", "start");
    const pid1 = runRecord("ctl")!.pid;
    expect(lstatSync(`${h.vdir("ctl")}/run/initctl`).isFIFO()).toBe(true);
    // struct init_request: magic 0x03091969, cmd 1 (runlevel), the runlevel, then zeros to 384 bytes.
    const request = (level: string) => `{ printf '\\151\\031\\011\\003\\001\\000\\000\\000\\${level.charCodeAt(0).toString(8).padStart(3, "0")}\\000\\000\\000'; head -c 372 /dev/zero; } > /run/initctl`;
    // Another runlevel and a wrong magic change nothing.
    expect(h.inGuest("ctl", "sh", "-c", request("2")).code).toBe(0);
    expect(h.inGuest("ctl", "sh", "-c", "head -c 384 /dev/zero > /run/initctl").code).toBe(0);
    await Bun.sleep(500);
    expect(boots("ctl")).toEqual(["start"]);
    expect(h.inGuest("ctl", "sh", "-c", request("6")).code).toBe(0);
    expect(await until(() => boots("ctl").length === 3)).toBe(true);
    expect(runRecord("ctl")!.pid).toBe(pid1);
    // After the restart the FIFO still answers.
    expect(h.inGuest("ctl", "sh", "-c", request("0")).code).toBe(0);
    expect(await until(() => !alive(pid1))).toBe(true);
    expect(boots("ctl")).toEqual(["start", "stop", "start", "stop"]);
    expect(h.vserver("ctl", "running").code).toBe(1);
  });

  test("vwait reports the guest's real exit status: 0 after a halt through our init", async () => {
    countingGuest("vw");
    h.ok("vw", "start");
    const w = Bun.spawn([`${BIN}/vwait`, "--timeout", "60", "vw"], { env: h.env, stdout: "pipe", stderr: "pipe" });
    await Bun.sleep(500);
    expect(h.inGuest("vw", "halt").code).toBe(0);
    expect(await w.exited).toBe(0);
    expect(await new Response(w.stdout).text()).toBe("FINISHED 0\n");
    // Known, not the fallback for an unknown status (which is not journalled).
    expect(journal().find((e) => e.op === "wait" && e.guest === "vw")!.code).toBe(0);
    expect(h.vserver("vw", "running").code).toBe(1);
  });
});

describe("a plain guest whose own init calls reboot(2) in its PID namespace", () => {
  // busybox init as PID 1 runs its shutdown actions, kills everything and calls reboot(2); with
  // CAP_SYS_BOOT in the guest's own user namespace that ends the PID namespace, and the kernel
  // reports its init as killed by SIGHUP (reboot) or SIGINT (halt, poweroff). Nothing of ours is
  // its parent: the kernel's reboot watch keeps which it was for the host's next look, which
  // starts a rebooted guest again and only cleans up after a halted one.
  for (const [cmd, code, how] of [["halt", 130, "halt"], ["reboot", 129, "reboot"]] as const) {
    test(`${cmd}: vwait sees ${code}, the next command sees a ${how} and ${how === "reboot" ? "starts the guest again" : "cleans up"}`, async () => {
      const name = `pl${cmd}`;
      busyboxGuest(h, name, { "apps/init/style": "plain\n", bcapabilities: "SYS_BOOT\n" });
      writeFileSync(`${h.vdir(name)}/etc/inittab`, "::sysinit:/bin/sh -c 'echo up >> /boots'\n::respawn:/bin/sleep 1000\n::shutdown:/bin/sh -c 'echo down >> /boots'\n");
      h.ok(name, "start");
      const rec = runRecord(name)!;
      expect(await until(() => boots(name).length === 1)).toBe(true);
      const w = Bun.spawn([`${BIN}/vwait`, "--timeout", "60", name], { env: h.env, stdout: "pipe", stderr: "pipe" });
      await Bun.sleep(500);
      // The guest's own init ends every process at shutdown, the asking command too if it is
      // still there (SIGTERM: 143).
      expect([0, 143]).toContain(h.inGuest(name, cmd).code);
      expect(await w.exited).toBe(0);
      expect(await new Response(w.stdout).text()).toBe(`FINISHED ${code}\n`);
      expect(alive(rec.pid)).toBe(false);
      expect(boots(name)).toEqual(["up", "down"]);
      // This command is the next look, unless the host service's own watch (it journals what
      // guests do by themselves) got there first: either one cleans up, once.
      const running = h.vserver(name, "running").code;
      const exitsOf = () => journal().filter((e) => e.op === "exit" && e.guest === name);
      expect(await until(() => exitsOf().length > 0)).toBe(true);
      const exits = exitsOf();
      expect(exits).toHaveLength(1);
      expect(exits[0]!.how).toBe(how);
      if (how === "reboot") {
        expect(await until(() => { const r = runRecord(name); return !!r && r.pid !== rec.pid && alive(r.pid); })).toBe(true);
        expect(h.vserver(name, "running").code).toBe(0);
        void running;
        const again = runRecord(name)!;
        expect(again.pid).not.toBe(rec.pid);
        expect(await until(() => boots(name).length === 3)).toBe(true);
        expect(boots(name)).toEqual(["up", "down", "up"]);
        expect(await until(() => journal().some((e) => e.op === "start" && e.guest === name && e.after === "reboot" && e.ok === true))).toBe(true);
        h.ok(name, "stop");
      } else {
        expect(running).toBe(1);
        expect(await until(() => !existsSync(`${h.runDir}/${name}`))).toBe(true);
      }
    });
  }
});

describe("vreboot and vhalt on the host", () => {
  test("vreboot restarts a guest (a new PID 1), vhalt stops it, and both refuse a mistyped name", () => {
    countingGuest("vr");
    h.ok("vr", "start");
    const before = runRecord("vr")!.pid;
    const r = h.run("vreboot", ["vr"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("vr: restarted\n");
    expect(runRecord("vr")!.pid).not.toBe(before);
    expect(boots("vr")).toEqual(["start", "stop", "start"]);
    expect(h.run("vhalt", ["vr"]).code).toBe(0);
    expect(h.vserver("vr", "running").code).toBe(1);
    const bad = h.run("vhalt", ["nosuchguest"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("nosuchguest");
    expect(h.run("vreboot", []).code).toBe(2);
  });
});

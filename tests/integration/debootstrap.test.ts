// End to end: a real Debian guest from debootstrap with a daemon (cron) that runs after start and
// is gone after stop. The slowest test: its package download is cached in /var/cache/vservers-test
// so that later runs on the same machine download nothing.

import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { TestHost } from "../helpers/host";
import { debianGuest } from "../helpers/debian";

const h = new TestHost("deb");
afterAll(() => h.cleanup());


function guestComms(name: string): string[] {
  const r = h.inGuest(name, "/bin/sh", "-c", "for p in /proc/[0-9]*; do cat $p/comm 2>/dev/null; done");
  return r.stdout.split("\n").filter(Boolean);
}

test("a debootstrapped Debian guest runs its daemon after start and not after stop", () => {
  debianGuest(h, "deb", { include: ["cron"], buildArgs: ["--hostname", "deb.example"] });
  expect(readFileSync(`${h.vdir("deb")}/etc/debian_version`, "utf8")).toMatch(/^\d+/);
  expect(readFileSync(`${h.vdir("deb")}/etc/hostname`, "utf8")).toBe("deb.example\n");

  h.ok("deb", "start");
  expect(h.inGuest("deb", "hostname").stdout.trim()).toBe("deb.example");
  expect(guestComms("deb")).toContain("cron");
  // The daemon is in the guest's cgroup, seen from the host too.
  const rec = JSON.parse(readFileSync(`${h.runDir}/deb`, "utf8"));
  const procs = readFileSync(`/sys/fs/cgroup/pids${rec.cgroupPath}/cgroup.procs`, "utf8").trim().split("\n").map(Number);
  expect(procs.some((p) => readFileSync(`/proc/${p}/comm`, "utf8").trim() === "cron")).toBe(true);

  h.ok("deb", "stop");
  expect(h.vserver("deb", "running").code).toBe(1);
  for (const p of procs) {
    let alive = false;
    try { alive = readFileSync(`/proc/${p}/stat`, "utf8").split(" ")[2] !== "Z"; } catch {}
    expect(alive).toBe(false);
  }
}, 1_800_000);

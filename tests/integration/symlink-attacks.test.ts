// Seed 001's symlink attacks against the host's own commands: guest root replaces paths the host
// will write or mount on (etc/hostname, etc/hosts, resolv.conf, var/run, a mount point) with
// symlinks to host files, `..` chains and FIFOs; then the host runs stop, start, build -m clone and
// build -m template from that tree, and the host's files must be exactly as they were.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { TestHost, busyboxGuest } from "../helpers/host";

const h = new TestHost("symlinks");
const victim = `${h.root}/host-victim`;
const victimDir = `${h.root}/host-victim-dir`;

function hostUntouched() {
  expect(readFileSync(victim, "utf8")).toBe("host file\n");
  expect(readdirSync(victimDir)).toEqual([]);
  expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(` ${victimDir} `);
}

beforeAll(() => {
  writeFileSync(victim, "host file\n");
  mkdirSync(victimDir);
  busyboxGuest(h, "evil");
  h.ok("evil", "start");
  // Guest root plants its traps from inside, pointing at host paths it has learnt (they are just strings).
  const depth = "../".repeat(16);
  const plant = [
    `ln -sf ${victim} /etc/hostname`,
    `ln -sf ${depth}${victim.slice(1)} /etc/hosts`,
    `ln -sf ${victim} /etc/resolv.conf`,
    `rm -rf /var/run && ln -s ${victimDir} /var/run`,
    `mkdir -p /mnt && ln -sfn ${victimDir} /mnt/data`,
    `mkfifo /etc/motd`,
  ].join(" && ");
  const r = h.inGuest("evil", "/bin/sh", "-c", plant);
  if (r.code !== 0) throw new Error(`planting failed: ${r.stderr}`);
  h.ok("evil", "stop");
});

afterAll(() => h.cleanup());

test("the planted links really point at the host's files (the attack is armed)", () => {
  expect(lstatSync(`${h.vdir("evil")}/etc/hostname`).isSymbolicLink()).toBe(true);
  expect(readFileSync(`${h.vdir("evil")}/etc/hostname`, "utf8")).toBe("host file\n");
  expect(lstatSync(`${h.vdir("evil")}/mnt/data`).isSymbolicLink()).toBe(true);
});

test("start with an fstab mount on a planted mount point, then stop: host untouched", () => {
  const fstab = `${h.cfg("evil")}/fstab`;
  writeFileSync(fstab, readFileSync(fstab, "utf8") + "none /mnt/data tmpfs size=1m 0 0\n");
  const r = h.vserver("evil", "start");
  // Starting may refuse the hostile mount point; what must never happen is a mount on the host's path.
  hostUntouched();
  if (r.code === 0) {
    h.inGuest("evil", "/bin/sh", "-c", "echo from-guest > /mnt/data/x; echo from-guest > /var/run/y");
    hostUntouched();
    h.ok("evil", "stop");
  }
  hostUntouched();
});

test("build -m clone from the hostile guest writes identity files inside the clone only", () => {
  h.ok("copy", "build", "-m", "clone", "--quiet", "--", "-s", "evil");
  hostUntouched();
  for (const f of ["hostname", "hosts", "resolv.conf"]) expect(lstatSync(`${h.vdir("copy")}/etc/${f}`).isFile()).toBe(true);
  expect(readFileSync(`${h.vdir("copy")}/etc/hostname`, "utf8")).toBe("copy\n");
  // Links the host did not need to write stay links, pointing where the guest said (inside its own root at run time).
  expect(lstatSync(`${h.vdir("copy")}/var/run`).isSymbolicLink()).toBe(true);
});

test("build -m template from an archive of the hostile tree: host untouched", () => {
  const tar = `${h.root}/evil.tar`;
  const r = Bun.spawnSync(["tar", "-C", h.vdir("evil"), "-cf", tar, "."]);
  expect(r.exitCode).toBe(0);
  h.ok("tpl", "build", "-m", "template", "--quiet", "--", "-t", tar);
  hostUntouched();
  expect(readFileSync(`${h.vdir("tpl")}/etc/hostname`, "utf8")).toBe("tpl\n");
});

test("the clone starts, and its guest sees its own files, not the host's", () => {
  // The clone inherited the hostile mount point with the fstab; crun (rightly) refuses it, so drop it.
  const fstab = `${h.cfg("copy")}/fstab`;
  writeFileSync(fstab, readFileSync(fstab, "utf8").replace(/^.*\/mnt\/data.*\n/m, ""));
  h.ok("copy", "start");
  const r = h.inGuest("copy", "/bin/cat", "/etc/hostname");
  expect(r.stdout).toBe("copy\n");
  h.ok("copy", "stop");
  hostUntouched();
  expect(existsSync(victim)).toBe(true);
});

// GuestRoot (src/drivers/safe-fs.ts) against a guest root that has planted symlinks and `..`
// chains: whatever the guest plants, writes land inside the root or fail, and the host's files
// stay as they were. Needs no root: the trees live in a temporary directory.

import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { GuestRoot, UnsafePathError } from "../../src/drivers/safe-fs";
import { writeIdentity } from "../../src/drivers/build/guest-tree";

const base = mkdtempSync("/tmp/vserver-unit-safefs-");
const root = `${base}/guest`;
const host = `${base}/host`;
const victim = `${host}/victim`;
const victimDir = `${host}/dir`;

function reset() {
  rmSync(root, { recursive: true, force: true });
  rmSync(host, { recursive: true, force: true });
  mkdirSync(`${root}/etc`, { recursive: true });
  mkdirSync(victimDir, { recursive: true });
  writeFileSync(victim, "host secret\n");
}

/** The host side is exactly as reset() left it. */
function hostUntouched() {
  expect(readFileSync(victim, "utf8")).toBe("host secret\n");
  expect(readdirSync(victimDir)).toEqual([]);
  expect(readdirSync(host).sort()).toEqual(["dir", "victim"]);
}

beforeEach(reset);
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe("GuestRoot with planted symlinks", () => {
  test("a final component that is an absolute symlink to a host file is refused, not followed", () => {
    symlinkSync(victim, `${root}/etc/hostname`);
    const g = new GuestRoot(root);
    try {
      expect(() => g.writeFile("etc/hostname", "pwned\n")).toThrow(UnsafePathError);
    } finally {
      g.close();
    }
    hostUntouched();
  });

  test("replaceSymlink removes the planted link and writes a regular file in its place", () => {
    symlinkSync(victim, `${root}/etc/hostname`);
    const g = new GuestRoot(root);
    try {
      g.writeFile("etc/hostname", "guest\n", 0o644, { replaceSymlink: true });
    } finally {
      g.close();
    }
    expect(lstatSync(`${root}/etc/hostname`).isFile()).toBe(true);
    expect(readFileSync(`${root}/etc/hostname`, "utf8")).toBe("guest\n");
    hostUntouched();
  });

  test("a parent directory replaced by a symlink to a host directory resolves inside the root", () => {
    rmSync(`${root}/etc`, { recursive: true });
    symlinkSync(victimDir, `${root}/etc`);
    const g = new GuestRoot(root);
    try {
      // The link's target is read as a path inside the guest root, where it does not exist.
      expect(() => g.writeFile("etc/hostname", "pwned\n")).toThrow();
    } finally {
      g.close();
    }
    hostUntouched();
  });

  test("a relative `..` chain in a symlink stops at the guest root", () => {
    const depth = root.split("/").length + 3;
    symlinkSync(`${"../".repeat(depth)}${victimDir.slice(1)}`, `${root}/etc/up`);
    mkdirSync(`${root}${victimDir}`, { recursive: true });
    const g = new GuestRoot(root);
    try {
      g.writeFile("etc/up/planted", "inside\n");
    } finally {
      g.close();
    }
    // Resolved with the guest root as "/": the file lands in the guest's copy of that path.
    expect(readFileSync(`${root}${victimDir}/planted`, "utf8")).toBe("inside\n");
    hostUntouched();
  });

  test("`..` in the path we are asked to write cannot climb out of the root", () => {
    mkdirSync(`${root}/tmp`);
    const g = new GuestRoot(root);
    try {
      g.writeFile("../../../../../../../tmp/escaped-by-dotdot", "x");
    } finally {
      g.close();
    }
    expect(existsSync("/tmp/escaped-by-dotdot")).toBe(false);
    expect(readFileSync(`${root}/tmp/escaped-by-dotdot`, "utf8")).toBe("x");
  });

  test("magic links (/proc/self/root) are refused", () => {
    symlinkSync("/proc/self/root" + host, `${root}/etc/magic`);
    const g = new GuestRoot(root);
    try {
      expect(() => g.writeFile("etc/magic/victim", "pwned\n")).toThrow();
    } finally {
      g.close();
    }
    hostUntouched();
  });

  test("mkdirs refuses to create through a symlink and never creates outside", () => {
    symlinkSync(victimDir, `${root}/var`);
    const g = new GuestRoot(root);
    try {
      expect(() => g.mkdirs("var/run/sub")).toThrow(UnsafePathError);
    } finally {
      g.close();
    }
    hostUntouched();
  });

  test("a FIFO or device node planted where a file will be written is refused (no hang, no write)", () => {
    Bun.spawnSync(["mkfifo", `${root}/etc/hosts`]);
    const g = new GuestRoot(root);
    try {
      // O_WRONLY on a FIFO without a reader would block: the open must not be allowed to wait.
      expect(() => g.writeFile("etc/hosts", "x", 0o644, {})).toThrow(UnsafePathError);
      // Root only: a device node (the unit tests also run unprivileged).
      if (process.getuid?.() === 0 && Bun.spawnSync(["mknod", `${root}/etc/motd`, "c", "1", "3"]).exitCode === 0) {
        expect(() => g.writeFile("etc/motd", "x")).toThrow(UnsafePathError);
      }
    } finally {
      g.close();
    }
  }, 5000);

  test("resolvedName follows links inside the root only: an absolute link to a host file names the guest's file", () => {
    mkdirSync(`${root}/usr/lib/systemd`, { recursive: true });
    writeFileSync(`${root}/usr/lib/systemd/systemd`, "");
    symlinkSync("usr/lib", `${root}/lib`);
    mkdirSync(`${root}/sbin`);
    symlinkSync("/lib/systemd/systemd", `${root}/sbin/init`);
    // On the host this would name the host's file; inside the root it names nothing.
    symlinkSync(victim, `${root}/sbin/other`);
    const g = new GuestRoot(root);
    try {
      expect(g.resolvedName("/sbin/init")).toBe("systemd");
      expect(g.resolvedName("/sbin/other")).toBeUndefined();
      expect(g.resolvedName("/sbin/missing")).toBeUndefined();
    } finally {
      g.close();
    }
    hostUntouched();
  });

  test("writeIdentity over a hostile tree: host files untouched, guest files regular", () => {
    symlinkSync(victim, `${root}/etc/hostname`);
    symlinkSync(`../../../../../../../../..${victim}`, `${root}/etc/hosts`);
    symlinkSync(victim, `${root}/etc/resolv.conf`);
    writeIdentity(root, { hostname: "guest", resolvConf: "nameserver 192.0.2.1\n" });
    for (const f of ["hostname", "hosts", "resolv.conf"]) expect(lstatSync(`${root}/etc/${f}`).isFile()).toBe(true);
    expect(readFileSync(`${root}/etc/hostname`, "utf8")).toBe("guest\n");
    hostUntouched();
  });
});

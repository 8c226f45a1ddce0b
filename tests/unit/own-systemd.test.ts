// Telling a plain guest whose own init is systemd (control/own-systemd.ts) from any other, by its
// /sbin/init resolved inside the guest's root: no root needed, the trees live in /tmp.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { ownInitIsSystemd } from "../../src/control/own-systemd";
import { guestInitArgv } from "../../src/pure/guest-init";

const base = mkdtempSync("/tmp/vserver-unit-own-systemd-");
afterAll(() => rmSync(base, { recursive: true, force: true }));

function root(name: string, init: (r: string) => void): string {
  const r = `${base}/${name}`;
  mkdirSync(`${r}/sbin`, { recursive: true });
  init(r);
  return r;
}

const plain = (argv0 = "/sbin/init") => ({ pid1: [argv0], guestInit: false, start: [], stop: [] });

describe("ownInitIsSystemd", () => {
  test("Debian's systemd-sysv layout: /sbin/init -> /lib/systemd/systemd, /lib -> usr/lib", () => {
    const r = root("debian", (r) => {
      mkdirSync(`${r}/usr/lib/systemd`, { recursive: true });
      writeFileSync(`${r}/usr/lib/systemd/systemd`, "");
      symlinkSync("usr/lib", `${r}/lib`);
      symlinkSync("/lib/systemd/systemd", `${r}/sbin/init`);
    });
    expect(ownInitIsSystemd(plain(), r)).toBe(true);
    expect(ownInitIsSystemd(plain("/lib/systemd/systemd"), r)).toBe(true);
    // Our guest init as PID 1 (any other style) runs scripts, not the guest's systemd.
    expect(ownInitIsSystemd({ pid1: guestInitArgv([["/etc/init.d/rc", "3"]], []), guestInit: true, start: [], stop: [] }, r)).toBe(false);
  });

  test("busybox init, a missing init, a link out of the root, a relative argv: not systemd", () => {
    const bb = root("busybox", (r) => {
      mkdirSync(`${r}/bin`);
      writeFileSync(`${r}/bin/busybox`, "");
      symlinkSync("/bin/busybox", `${r}/sbin/init`);
    });
    expect(ownInitIsSystemd(plain(), bb)).toBe(false);
    expect(ownInitIsSystemd(plain(), root("empty", () => {}))).toBe(false);
    // A host systemd binary exists at this path; inside the root the link leads nowhere.
    const out = root("escape", (r) => symlinkSync("../../../../../../../../lib/systemd/systemd", `${r}/sbin/init`));
    expect(ownInitIsSystemd(plain(), out)).toBe(false);
    expect(ownInitIsSystemd(plain("init"), bb)).toBe(false);
    expect(ownInitIsSystemd(plain(), `${base}/no-such-root`)).toBe(false);
  });
});

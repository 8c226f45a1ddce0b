// util-vserver's build options beside the method: --rootdir, the interface defaults (--netdev,
// --netprefix, --netmask, --netbcast), .defaults/apps/build/options, and --help's word on '--'.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { TestHost } from "../helpers/host";

let h: TestHost;

beforeAll(() => {
  h = new TestHost("buildopts");
});

afterAll(() => {
  h.cleanup();
});

const cfgFile = (name: string, rel: string) => readFileSync(`${h.cfg(name)}/${rel}`, "utf8");

describe("build options", () => {
  test("--rootdir puts the guest's root elsewhere; the guest runs and delete removes it", () => {
    const roots = `${h.root}/elsewhere`;
    h.ok("rd", "build", "-m", "busybox", "--quiet", "--rootdir", roots);
    expect(readlinkSync(`${h.cfg("rd")}/vdir`)).toBe(`${roots}/rd`);
    expect(existsSync(`${roots}/rd/bin/busybox`)).toBe(true);
    expect(existsSync(h.vdir("rd"))).toBe(false);
    h.ok("rd", "start");
    expect(h.inGuest("rd", "cat", "/etc/hostname").stdout.trim()).toBe("rd");
    h.ok("rd", "stop");
    h.ok("rd", "delete", "--force");
    expect(existsSync(`${roots}/rd`)).toBe(false);
    const relative = h.vserver("rd2", "build", "-m", "busybox", "--rootdir", "roots");
    expect(relative.code).toBe(2);
    expect(relative.stderr).toContain("--rootdir");
    expect(existsSync(h.cfg("rd2"))).toBe(false);
  });

  test("--netdev, --netprefix and --netbcast are the defaults of every --interface", () => {
    h.ok("nd", "build", "-m", "busybox", "--quiet", "--interface", "10.77.0.2", "--interface", "web=10.77.1.2/16", "--netdev", "vstdummy0", "--netprefix", "24", "--netbcast", "10.77.0.255");
    expect(cfgFile("nd", "interfaces/dev")).toBe("vstdummy0\n");
    expect(cfgFile("nd", "interfaces/prefix")).toBe("24\n");
    expect(cfgFile("nd", "interfaces/bcast")).toBe("10.77.0.255\n");
    expect(cfgFile("nd", "interfaces/00/ip")).toBe("10.77.0.2\n");
    expect(existsSync(`${h.cfg("nd")}/interfaces/00/nodev`)).toBe(false);
    expect(cfgFile("nd", "interfaces/01/prefix")).toBe("16\n");
    // The config reads as start reads it.
    expect(h.vserver("nd", "status").code).toBe(3);
    const lonely = h.vserver("nd2", "build", "-m", "busybox", "--netdev", "eth0");
    expect(lonely.code).toBe(2);
    expect(lonely.stderr).toContain("give at least one --interface");
    const both = h.vserver("nd3", "build", "-m", "busybox", "--interface", "10.77.0.3", "--netprefix", "24", "--netmask", "255.255.255.0");
    expect(both.code).toBe(2);
    for (const n of ["nd2", "nd3"]) expect(existsSync(h.cfg(n))).toBe(false);
  });

  test(".defaults/apps/build/options are default options; the command line wins", () => {
    mkdirSync(`${h.confDir}/.defaults/apps/build`, { recursive: true });
    writeFileSync(`${h.confDir}/.defaults/apps/build/options`, "# site defaults\n--hostname fromdefaults\n--flags lock\n");
    h.ok("df", "build", "-m", "busybox", "--quiet");
    expect(cfgFile("df", "uts/nodename")).toBe("fromdefaults\n");
    expect(cfgFile("df", "cflags")).toBe("lock\n");
    h.ok("df2", "build", "-m", "busybox", "--quiet", "--hostname", "mine");
    expect(cfgFile("df2", "uts/nodename")).toBe("mine\n");
    writeFileSync(`${h.confDir}/.defaults/apps/build/options`, "--bogus\n");
    const bad = h.vserver("df3", "build", "-m", "busybox");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--bogus");
    expect(bad.stderr).toContain("apps/build/options come first");
    writeFileSync(`${h.confDir}/.defaults/apps/build/options`, "");
  });

  test("build --help says that the method's arguments go after '--'", () => {
    const r = h.vserver("x", "build", "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("The method's own arguments (-d SUITE, -s GUEST, -t ARCHIVE, ...) go after '--'");
    expect(r.stdout).toContain("--rootdir DIR");
  });
});

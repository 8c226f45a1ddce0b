// What a guest gets beyond the basics: the enter pty, its log, cgroup/* files, nice, its own
// network namespace, a minimal /dev, and what its init scripts print.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { TestHost, busyboxGuest, BIN } from "../helpers/host";
import { cgroupHost } from "../../src/drivers/cgroup/hierarchies";

const h = new TestHost("feat");
afterAll(() => h.cleanup());

const v1 = cgroupHost().layout !== "v2";

describe("guest features", () => {
  beforeAll(() => {
    busyboxGuest(h, "f1", {
      nice: "7\n",
      "spaces/net": "",
      ...(v1 ? { "cgroup/cpu.cfs_quota_us": "50000\n" } : { "cgroup/cpu.max": "50000 100000\n" }),
    });
    const root = h.vdir("f1");
    writeFileSync(`${root}/etc/init.d/hello`, "#!/bin/sh\necho \"hello service $1\"\necho 'to stderr' >&2\n", { mode: 0o755 });
    Bun.spawnSync(["ln", "-s", "../init.d/hello", `${root}/etc/rc3.d/S01hello`]);
    h.ok("f1", "start");
  });

  test("the init scripts' output is in the guest's log, whose path status shows", () => {
    const status = h.ok("f1", "status").stdout;
    const log = /Log: (.*)/.exec(status)![1]!;
    expect(log).toBe(`${h.logDir}/f1.log`);
    const text = readFileSync(log, "utf8");
    expect(text).toMatch(/hello service start/);
    expect(text).toMatch(/to stderr/);
  });

  test("cgroup/* settings are written to the guest's cgroup", () => {
    const rec = JSON.parse(readFileSync(`${h.runDir}/f1`, "utf8"));
    if (v1) expect(readFileSync(`/sys/fs/cgroup/cpu${rec.cgroupPath}/cpu.cfs_quota_us`, "utf8").trim()).toBe("50000");
    else expect(readFileSync(`/sys/fs/cgroup${rec.cgroupPath}/cpu.max`, "utf8").trim()).toBe("50000 100000");
  });

  test("a bad cgroup/* value fails start naming the file, leaving nothing", () => {
    busyboxGuest(h, "badcg", v1 ? { "cgroup/cpu.cfs_quota_us": "lots\n" } : { "cgroup/cpu.max": "lots\n" });
    const r = h.vserver("badcg", "start");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/badcg\/cgroup\/cpu\.(cfs_quota_us|max): the kernel refused 'lots'/);
    expect(h.vserver("badcg", "running").code).toBe(1);
  });

  test("nice applies to the guest's processes", () => {
    expect(h.inGuest("f1", "sh", "-c", "cut -d' ' -f19 /proc/1/stat").stdout.trim()).toBe("7");
    expect(h.inGuest("f1", "sh", "-c", "cut -d' ' -f19 /proc/self/stat").stdout.trim()).toBe("7");
  });

  test("spaces/net: its own network namespace with loopback only", () => {
    const links = h.inGuest("f1", "ip", "-o", "link").stdout.trim().split("\n");
    expect(links.length).toBe(1);
    expect(links[0]).toMatch(/: lo:/);
    const rec = JSON.parse(readFileSync(`${h.runDir}/f1`, "utf8"));
    expect(Bun.spawnSync(["readlink", `/proc/${rec.pid}/ns/net`]).stdout.toString()).not.toBe(Bun.spawnSync(["readlink", "/proc/self/ns/net"]).stdout.toString());
  });

  test("a minimal /dev with a private devpts", () => {
    const dev = h.inGuest("f1", "ls", "-1", "/dev").stdout.split("\n").filter(Boolean).sort();
    for (const d of ["null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm", "fd", "stdin", "stdout", "stderr"]) expect(dev).toContain(d);
    expect(dev).not.toContain("sda");
    expect(dev).not.toContain("mem");
    expect(dev).not.toContain("kmsg");
    expect(h.inGuest("f1", "ls", "/dev/pts").stdout.trim().split(/\s+/)).toEqual(["ptmx"]);
  });

  test("IPC namespace: the host's SysV objects are not visible", () => {
    const rec = JSON.parse(readFileSync(`${h.runDir}/f1`, "utf8"));
    const a = Bun.spawnSync(["readlink", `/proc/${rec.pid}/ns/ipc`]).stdout.toString();
    const b = Bun.spawnSync(["readlink", "/proc/self/ns/ipc"]).stdout.toString();
    expect(a).not.toBe(b);
  });

  test("enter: a shell on a fresh pty inside the guest", () => {
    if (!existsSync("/usr/bin/script")) throw new Error("util-linux script(1) is needed for this test");
    const r = Bun.spawnSync(["script", "-qec", `${BIN}/vserver f1 enter`, "/dev/null"], {
      env: h.env, stdin: Buffer.from("hostname; tty; echo pid=$$; exit\n"), stdout: "pipe", stderr: "pipe", timeout: 60_000,
    });
    const out = r.stdout.toString();
    expect(out).toMatch(/\bf1\b/);
    expect(out).toMatch(/\/dev\/pts\/\d+/);
    expect(out).toMatch(/pid=\d+/);
  });

  test("exec relays a host file on stdin/stdout through pipes: the guest never holds the file", () => {
    const out = `${h.root}/exec-out`;
    const inp = `${h.root}/exec-in`;
    writeFileSync(inp, "input line\n");
    const r = Bun.spawnSync([`${BIN}/vserver`, "f1", "exec", "sh", "-c", "readlink /proc/self/fd/0; readlink /proc/self/fd/1; cat"], {
      env: h.env, stdin: Bun.file(inp), stdout: Bun.file(out), stderr: "pipe",
    });
    expect(r.exitCode).toBe(0);
    const lines = readFileSync(out, "utf8").split("\n");
    expect(lines[0]).toMatch(/^(pipe|socket):/);
    expect(lines[1]).toMatch(/^(pipe|socket):/);
    expect(lines[2]).toBe("input line");
  });

  test("enter without a terminal is refused plainly", () => {
    const r = h.vserver("f1", "enter");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/enter needs a terminal/);
  });

  test("the private flag, fixed when the guest starts, refuses exec and enter", () => {
    writeFileSync(`${h.cfg("f1")}/cflags`, "private\n");
    expect(h.inGuest("f1", "true").code).toBe(0); // a config edit holds from the next start
    h.ok("f1", "restart");
    try {
      for (const env of [{}, { VSERVER_SERVICE: "off" }] as Record<string, string>[]) {
        const r = h.run("vserver", ["f1", "exec", "true"], { env });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/'private' flag .*exec is refused/);
      }
      expect(h.vserver("f1", "enter").stderr).toMatch(/'private' flag .*enter is refused/);
    } finally {
      writeFileSync(`${h.cfg("f1")}/cflags`, "\n");
    }
  });
});

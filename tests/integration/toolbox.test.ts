// The tools an admin reaches for beside vserver itself: vmount (mount into a running guest),
// vspace and vnamespace (a command in a guest's namespaces), exec-cd (a safe chdir below a
// directory). Each is tried against what a hostile guest would plant.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { BIN, TestHost, busyboxGuest } from "../helpers/host";

let h: TestHost;
const HOSTDIR = `/tmp/vst-vmount-${Math.random().toString(36).slice(2, 8)}`;

beforeAll(() => {
  h = new TestHost("toolbox");
  busyboxGuest(h, "g", {}, ["--hostname", "g.example"]);
  busyboxGuest(h, "priv", { "security/privileged": "" });
  h.ok("g", "start");
  h.ok("priv", "start");
  mkdirSync(HOSTDIR);
  writeFileSync(`${HOSTDIR}/data`, "from the host\n");
});

afterAll(() => {
  h.cleanup();
  rmSync(HOSTDIR, { recursive: true, force: true });
});

function journal(op: string): Array<Record<string, unknown>> {
  return readFileSync(`${h.logDir}/events.log`, "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.op === op);
}

describe("vmount", () => {
  test("binds a host directory into a running guest, idmapped (the guest's root owns the host's root's files) and read-only on -o ro", () => {
    expect(h.inGuest("g", "mkdir", "-p", "/srv/in").code).toBe(0);
    const r = h.run("vmount", ["g", "--", "--bind", "-o", "ro", HOSTDIR, "/srv/in"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(h.inGuest("g", "cat", "/srv/in/data").stdout).toBe("from the host\n");
    expect(h.inGuest("g", "stat", "-c", "%u", "/srv/in/data").stdout.trim()).toBe("0");
    expect(h.inGuest("g", "sh", "-c", "echo x > /srv/in/data").code).not.toBe(0);
    expect(readFileSync(`${HOSTDIR}/data`, "utf8")).toBe("from the host\n");
    // The host does not see the mount: it is in the guest's namespace only.
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain("/srv/in");
    expect(journal("vmount").at(-1)).toMatchObject({ guest: "g", ok: true, target: "/srv/in" });
  });

  test("a symlink the guest planted at the target resolves inside the guest's root, never onto the host", () => {
    // The guest points /srv/evil at the host's idea of a sensitive place.
    expect(h.inGuest("g", "sh", "-c", `mkdir -p /victim && ln -s /victim /srv/evil && ln -s ../../../../../..${HOSTDIR} /srv/up`).code).toBe(0);
    mkdirSync(`${HOSTDIR}/src2`);
    writeFileSync(`${HOSTDIR}/src2/marker`, "m\n");
    expect(h.run("vmount", ["g", "--", "--bind", `${HOSTDIR}/src2`, "/srv/evil"]).code).toBe(0);
    expect(h.inGuest("g", "cat", "/victim/marker").stdout).toBe("m\n");
    // /srv/up leads to the guest's own (missing) directory of that name, not the host's.
    const r = h.run("vmount", ["g", "--", "--bind", `${HOSTDIR}/src2`, "/srv/up"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("/srv/up");
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(`${HOSTDIR} `);
  });

  test("a new file system with its options; nosuid and nodev by default", () => {
    expect(h.inGuest("g", "mkdir", "-p", "/scratch").code).toBe(0);
    expect(h.run("vmount", ["g", "--", "-t", "tmpfs", "-o", "size=1m,mode=0700", "none", "/scratch"]).code).toBe(0);
    const m = h.inGuest("g", "grep", " /scratch ", "/proc/mounts").stdout;
    expect(m).toContain("tmpfs");
    expect(m).toContain("nosuid");
    expect(m).toContain("nodev");
    expect(m).toMatch(/size=1024k/);
  });

  test("bad input: one sentence each, and nothing mounted", () => {
    const cases: Array<[string[], string]> = [
      [["g", "--", "--bind", "relative", "/x"], "absolute path on the host"],
      [["g", "--", "--bind", HOSTDIR, "x"], "absolute path inside the guest"],
      [["g", "--", HOSTDIR, "/x"], "--bind"],
      [["g", "--", "-a"], "-a"],
      [["g", "--", "--bind", "-o", "size=1m", HOSTDIR, "/srv"], "does not apply to a bind mount"],
      [["nosuchguest", "--", "--bind", HOSTDIR, "/srv"], "nosuchguest"],
      [["g", "--", "--bind", `${HOSTDIR}/missing`, "/srv"], "missing"],
    ];
    for (const [args, text] of cases) {
      const r = h.run("vmount", args);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(text);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});

describe("vspace and vnamespace", () => {
  test("vspace -e runs a command in the guest's namespaces as the guest's root, with no power over the host", () => {
    const r = h.run("vspace", ["-e", "g", "--", "hostname"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("g.example");
    // The guest's root file system and PID namespace.
    expect(h.run("vspace", ["-e", "g", "cat", "/etc/hostname"]).code).toBe(0);
    expect(h.run("vspace", ["-e", "g", "--pid", "--mount", "--", "sh", "-c", "cat /proc/1/comm"]).stdout.trim()).toMatch(/vserver-init$/);
    // Root in the guest's user namespace only: the host's uid 0 files it cannot write.
    const w = h.run("vspace", ["-e", "g", "--", "sh", "-c", "cat /proc/self/uid_map"]);
    expect(w.stdout.trim().split(/\s+/)[1]).not.toBe("0");
    // Only the named spaces: with --uts alone the command is the host's, the name the guest's.
    expect(h.run("vspace", ["-e", "g", "--uts", "--", "hostname"]).stdout.trim()).toBe("g.example");
  });

  test("vnamespace -e enters the mount namespace only; --new makes one on the host", () => {
    const r = h.run("vnamespace", ["-e", "g", "--", "ls", "/srv"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("in");
    const n = h.run("vnamespace", ["--new", "--", "sh", "-c", "readlink /proc/self/ns/mnt"]);
    expect(n.code).toBe(0);
    expect(n.stdout.trim()).not.toBe(readlinkSync("/proc/self/ns/mnt"));
  });

  test("a guest without a user namespace of its own is refused, as are unsupported flags", () => {
    const p = h.run("vspace", ["-e", "priv", "--", "true"]);
    expect(p.code).not.toBe(0);
    expect(p.stderr).toContain("vserver NAME exec");
    for (const [cmd, args, text] of [
      ["vspace", ["--set", "-e", "g", "true"], "--set"],
      ["vspace", ["-e", "g"], "no command"],
      ["vspace", ["true"], "--enter"],
      ["vnamespace", ["--cleanup"], "--cleanup"],
      ["vnamespace", ["-e", "g", "--net", "true"], "vspace"],
      ["vspace", ["-e", "nosuch", "true"], "nosuch"],
    ] as const) {
      const r = h.run(cmd, [...args]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(text);
    }
  });
});

describe("uts/machine and personality", () => {
  test("uts/machine i686 runs the guest under the 32-bit personality: its init and exec see i686", () => {
    busyboxGuest(h, "m32", { "uts/machine": "i686\n", "apps/init/cmd.start": "/bin/sh\n-c\nuname -m > /machine\n" });
    h.ok("m32", "start");
    try {
      expect(readFileSync(`${h.vdir("m32")}/machine`, "utf8")).toBe("i686\n");
      expect(h.inGuest("m32", "uname", "-m").stdout.trim()).toBe("i686");
      expect(h.inGuest("g", "uname", "-m").stdout.trim()).toBe(process.arch === "x64" ? "x86_64" : "aarch64");
    } finally {
      h.ok("m32", "stop");
    }
  });

  test("a machine the host cannot show fails the start in one sentence naming the file, leaving nothing", () => {
    busyboxGuest(h, "sparc", { "uts/machine": "sparc64\n" });
    const r = h.vserver("sparc", "start");
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(`${h.cfg("sparc")}/uts/machine`);
    expect(h.vserver("sparc", "running").code).toBe(1);
    expect(existsSync(`${h.runDir}/sparc`)).toBe(false);
  });
});

describe("vsched and sched/: the token bucket as a cgroup CPU cap and weight", () => {
  const cpus = require("node:os").availableParallelism() as number;
  const cpuFile = (name: string, f: string) => readFileSync(`/sys/fs/cgroup/cpu${JSON.parse(readFileSync(`${h.runDir}/${name}`, "utf8")).cgroupPath}/${f}`, "utf8").trim();

  test("sched/fill-rate over sched/interval caps the guest from its start, and a busy loop is throttled", () => {
    busyboxGuest(h, "capped", { "sched/fill-rate": "1\n", "sched/interval": "10\n" });
    h.ok("capped", "start");
    try {
      expect(cpuFile("capped", "cpu.cfs_period_us")).toBe("100000");
      expect(Number(cpuFile("capped", "cpu.cfs_quota_us"))).toBe(10000 * cpus);
      const before = Number(/nr_throttled (\d+)/.exec(cpuFile("capped", "cpu.stat"))![1]);
      h.inGuest("capped", "timeout", "2", "sh", "-c", "while :; do :; done");
      expect(Number(/nr_throttled (\d+)/.exec(cpuFile("capped", "cpu.stat"))![1])).toBeGreaterThan(before);
    } finally {
      h.ok("capped", "stop");
    }
  });

  test("vsched changes a running guest's cap and weight, prints them, saves them on --save", () => {
    const r = h.run("vsched", ["--xid", "g", "--fill-rate", "1", "--interval", "4", "--prio-bias", "-5", "--save"]);
    expect(r.code).toBe(0);
    expect(Number(cpuFile("g", "cpu.cfs_quota_us"))).toBe(25000 * cpus);
    expect(cpuFile("g", "cpu.shares")).toBe("3125");
    expect(readFileSync(`${h.cfg("g")}/sched/fill-rate`, "utf8")).toBe("1\n");
    expect(readFileSync(`${h.cfg("g")}/sched/interval`, "utf8")).toBe("4\n");
    expect(h.run("vsched", ["--xid", "g"]).stdout).toBe(`cpu-cap: 0.25 of each of ${cpus} CPUs\ncpu-shares: 3125\n`);
    const w = h.run("vsched", ["--xid", "g", "--tokens-max", "500", "--fill-rate", "inf", "--interval", "inf"]);
    expect(w.code).toBe(0);
    expect(w.stderr).toContain("--tokens-max 500: not applied");
    expect(cpuFile("g", "cpu.cfs_quota_us")).toBe("-1");
  });

  test("bad input is refused in one sentence and changes nothing", () => {
    for (const [args, text] of [
      [["--xid", "g", "--fill-rate", "5", "--interval", "4"], "more than all of a CPU"],
      [["--xid", "g", "--fill-rate", "1"], "go together"],
      [["--xid", "g", "--prio-bias", "30"], "-20 to 19"],
      [["--xid", "g", "--", "true"], "not supported"],
      [["--fill-rate", "1", "--interval", "2"], "--xid"],
    ] as const) {
      const r = h.run("vsched", [...args]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(text);
    }
    expect(cpuFile("g", "cpu.cfs_quota_us")).toBe("-1");
  });
});

describe("util-vserver's other verbs and flags: honoured, or refused with the reason", () => {
  const one = (r: { code: number; stderr: string }, text: string) => {
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(text);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  };

  test("vserver NAME chkconfig runs the guest's own; pkgmgmt says why not", () => {
    one(h.vserver("g", "chkconfig", "--list"), "guest 'g' has no chkconfig");
    // unify and hashify work (unify.test.ts); on this guest they refuse in one sentence.
    one(h.vserver("g", "unify"), "");
    one(h.vserver("g", "hashify"), "");
    one(h.vserver("g", "pkgmgmt", "externalize"), "package database stays inside it");
  });

  test("chbind, chcontext, vsomething", () => {
    expect(h.run("chbind", ["--secure", "--silent", "--ip", "127.0.0.1", "--", "true"]).code).toBe(0);
    for (const f of ["--nid", "--lback", "--bcast", "--ncap", "--flag"]) one(h.run("chbind", [f, "1", "--ip", "127.0.0.1", "--", "true"]), `${f}: `);
    one(h.run("chbind", ["--disconnect", "--ip", "127.0.0.1", "--", "true"]), "--disconnect: ");
    one(h.run("chcontext", ["--spaces", "--silent", "true"]), "--spaces: ");
    one(h.run("vsomething", ["true", "--stopped", "--", "x"]), "--stopped: ");
    const m = h.run("vsomething", ["--debug", "-q", "true", "--mark", "nosuchmark", "--", "x"]);
    expect(m.code).toBe(0);
  });

  test("vserver-info: NID, TAG, XIDTYPE, CANONIFY, INITPID_PID, PXID; the kernel-only tags and -l are refused", () => {
    const rec = JSON.parse(readFileSync(`${h.runDir}/g`, "utf8"));
    const info = (...a: string[]) => h.run("vserver-info", a);
    expect(info("g", "NID").stdout).toBe(`${rec.context}\n`);
    expect(info("g", "TAG").stdout).toBe(`${rec.context}\n`);
    expect(info("g", "XIDTYPE").stdout).toBe("static\n");
    expect(info(String(rec.context), "CANONIFY").stdout).toBe("g\n");
    const sleeper = h.inGuest("g", "sh", "-c", "sleep 30 >/dev/null 2>&1 & echo ok");
    expect(sleeper.code).toBe(0);
    const comm = (p: number) => { try { return readFileSync(`/proc/${p}/comm`, "utf8").trim(); } catch { return ""; } };
    const child = readFileSync(`/sys/fs/cgroup/pids${rec.cgroupPath}/cgroup.procs`, "utf8").trim().split("\n").map(Number).find((p) => comm(p) === "sleep")!;
    expect(child).toBeGreaterThan(0);
    expect(info(String(child), "INITPID_PID").stdout).toBe(`${rec.pid}\n`);
    expect(info(String(child), "PXID").stdout).toBe("0\n");
    one(info("g", "APIVER"), "APIVER: ");
    one(info("-l", "g", "CONTEXT"), "-l is not supported");
    h.inGuest("g", "pkill", "sleep");
  });

  test("build: --keep keeps a failed build's root and config, the next build removes them; --i-know-its-there and --pkgbase say why not", () => {
    const failed = h.run("vserver", ["kept", "build", "-m", "busybox", "--keep"], { env: { VSERVER_FAULT: "build.before-rename:enospc" } });
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain("kept for inspection (--keep)");
    const kept = /--keep\): (\S+) and (\S+),/.exec(failed.stderr)!;
    expect(existsSync(`${kept[1]}/bin/busybox`)).toBe(true);
    expect(existsSync(kept[2]!)).toBe(true);
    expect(h.run("vserver", ["kept", "build", "-m", "busybox", "--quiet"]).code).toBe(0);
    expect(existsSync(kept[1]!)).toBe(false);
    expect(existsSync(kept[2]!)).toBe(false);
    one(h.run("vserver", ["x", "build", "-m", "busybox", "--i-know-its-there"]), "--i-know-its-there is not supported");
    one(h.run("vserver", ["x", "build", "-m", "busybox", "--pkgbase", "/tmp"]), "--pkgbase is not supported");
  });
});

describe("exec-cd", () => {
  test("enters a directory below the current one; links and .. cannot lead out of it", () => {
    const root = h.vdir("g");
    // What the guest planted: a link to the host's /etc and a .. chain.
    expect(h.inGuest("g", "sh", "-c", "mkdir -p /home/a && ln -sf /etc /home/a/etc-link").code).toBe(0);
    const run = (dir: string) => Bun.spawnSync([`${BIN}/exec-cd`, dir, "pwd"], { cwd: root, env: h.env, stdout: "pipe", stderr: "pipe" });
    const a = run("home/a");
    expect(a.exitCode).toBe(0);
    expect(a.stdout.toString().trim()).toBe(`${root}/home/a`);
    // /etc of the guest, not the host's.
    expect(run("home/a/etc-link").stdout.toString().trim()).toBe(`${root}/etc`);
    expect(run("../../../../../../../../etc").stdout.toString().trim()).toBe(`${root}/etc`);
    const missing = run("no/such/dir");
    expect(missing.exitCode).not.toBe(0);
    expect(missing.stderr.toString()).toContain("no/such/dir");
  });
});

// chcontext, reducecap and vserver-info against the real kernel. The security tests try what the
// tools must forbid (seeing or signalling outside processes, regaining a dropped capability
// through a setuid binary), each next to a control run showing that the same attempt works
// without the tool, so a test cannot pass because the attempt was broken.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { TestHost, busyboxGuest, BIN } from "../helpers/host";
import { DEFAULT_CAPABILITIES } from "../../src/pure/config/capabilities";

const h = new TestHost("ctxtools");
const sleeper = Bun.spawn(["sleep", "4721"], { stdout: "ignore", stderr: "ignore" });

afterAll(() => {
  sleeper.kill("SIGKILL");
  h.cleanup();
});

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

function sh(cmd: string, ...pre: string[]): string[] {
  return [...pre, "--", "/bin/sh", "-c", cmd];
}

describe("chcontext: a new context", () => {
  test("has its own process space and UTS names, and cannot signal host processes", () => {
    const r = h.run("chcontext", sh(`hostname; domainname; ps -e -o pid= | wc -l; kill -9 ${sleeper.pid}; echo kill=$?; echo pid=$$`, "--hostname", "box1", "--domainname", "dom1"));
    expect(r.stderr).toMatch(/^New security context is (49\d{3}|5\d{4}|6\d{4})\n/);
    const out = r.stdout.split("\n");
    expect(out[0]).toBe("box1");
    expect(out[1]).toBe("dom1");
    expect(Number(out[2]!.trim())).toBeLessThanOrEqual(3); // sh, ps, wc
    expect(out[3]).toBe("kill=1");
    expect(out[4]).toBe("pid=1");
    expect(alive(sleeper.pid)).toBe(true);
    // Control: the same kill from the host does reach a host process.
    const victim = Bun.spawn(["sleep", "4722"]);
    expect(Bun.spawnSync(["/bin/sh", "-c", `kill -9 ${victim.pid}; echo kill=$?`]).stdout.toString()).toBe("kill=0\n");
    expect(Bun.spawnSync(["hostname"]).stdout.toString()).not.toBe("box1\n");
  });

  test("is attributed by vps and vserver-stat while it runs, and leaves nothing behind", async () => {
    const p = Bun.spawn([`${BIN}/chcontext`, "--ctx", "49999", "--silent", "--", "sleep", "4723"], { env: h.env, stdout: "ignore", stderr: "pipe" });
    let line = "";
    try {
      for (let i = 0; i < 100 && !line; i++) {
        await Bun.sleep(50);
        line = h.run("vps", ["ax"]).stdout.split("\n").find((l) => / sleep 4723$/.test(l) && !/chcontext(\.js)? --/.test(l)) ?? "";
      }
      expect(line).toMatch(/^\s*\d+ 49999 chcontext:sleep\s/);
      // The command and the unshare(1) that holds its namespaces.
      expect(h.run("vserver-stat", []).stdout).toMatch(/\n49999\s+2 .* chcontext:sleep\n/);
    } catch (e) {
      // Ours by PID: what this test started is in the context's cgroup.
      const procs = `/sys/fs/cgroup/pids/${h.cgroupParent}/49999/cgroup.procs`;
      if (existsSync(procs)) for (const pid of readFileSync(procs, "utf8").split("\n").filter(Boolean)) try { process.kill(Number(pid), "SIGKILL"); } catch {}
      await p.exited;
      throw e;
    }
    const again = h.run("chcontext", ["--ctx", "49999", "--", "true"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^chcontext: context 49999 is in use/);
    expect(h.run("vkill", ["--xid", "49999", "-s", "KILL", "0"]).code).toBe(0);
    expect(await p.exited).toBe(137);
    expect(existsSync(`/sys/fs/cgroup/pids/${h.cgroupParent}/49999`)).toBe(false);
    expect(existsSync(`${h.runDir}/.contexts/49999`)).toBe(false);
  });

  test("--secure drops the unsafe capabilities; without it the same mount works", () => {
    mkdirSync(`${h.root}/mnt`, { recursive: true });
    const cmd = `mount -t tmpfs none ${h.root}/mnt && echo mounted; grep CapBnd /proc/self/status`;
    const open = h.run("chcontext", sh(cmd, "--silent"));
    expect(open.stdout).toMatch(/^mounted\n/);
    const secure = h.run("chcontext", sh(cmd, "--silent", "--secure"));
    expect(secure.stdout).not.toMatch(/mounted/);
    expect(secure.stderr).toMatch(/permission denied|Operation not permitted/i);
    const bnd = BigInt(`0x${/CapBnd:\s+(\w+)/.exec(secure.stdout)![1]}`);
    expect(bnd & (1n << 21n)).toBe(0n); // SYS_ADMIN
    expect(bnd & (1n << 0n)).toBe(1n); // CHOWN stays
    const minus = h.run("chcontext", sh("grep CapBnd /proc/self/status", "--silent", "--secure", "--cap", "!CAP_CHOWN", "--cap", "NET_RAW"));
    const m = BigInt(`0x${/CapBnd:\s+(\w+)/.exec(minus.stdout)![1]}`);
    expect(m & 1n).toBe(0n);
    expect(m & (1n << 13n)).toBe(1n << 13n);
  });
});

describe("chcontext --ctx 1: the spectator", () => {
  test("sees every host process but can signal none", () => {
    const r = h.run("chcontext", sh(`ps -e -o pid= | grep -cx " *${sleeper.pid}"; kill -0 ${sleeper.pid}; echo kill=$?`, "--ctx", "1"));
    expect(r.stdout).toBe("1\nkill=1\n");
    expect(r.stderr).toMatch(/Operation not permitted/);
    expect(alive(sleeper.pid)).toBe(true);
  });
});

describe("chcontext --ctx of a running guest", () => {
  beforeAll(() => {
    busyboxGuest(h, "inner", { context: "40201\n", "uts/nodename": "inner-host\n" });
    busyboxGuest(h, "closed", { context: "40202\n", cflags: "private\n" });
    h.ok("inner", "start");
    h.ok("closed", "start");
  });

  test("runs the command inside the guest", () => {
    const r = h.run("chcontext", ["--ctx", "40201", "--", "hostname"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("inner-host\n");
  });

  test("a private guest is refused, as are options that would change it", () => {
    let r = h.run("chcontext", ["--ctx", "40202", "--", "hostname"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^chcontext: guest 'closed' has the 'private' flag .*refused\.\n$/);
    r = h.run("chcontext", ["--ctx", "40201", "--secure", "--", "hostname"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^chcontext: context 40201 is the running guest 'inner'/);
  });

  test("vserver-info answers for the guest, its context and its processes", () => {
    const rec = JSON.parse(readFileSync(`${h.runDir}/inner`, "utf8"));
    const q = (...a: string[]) => h.run("vserver-info", a);
    expect(q("inner", "CONTEXT").stdout).toBe("40201\n");
    expect(q("40201", "NAME").stdout).toBe("inner\n");
    expect(q("inner", "INITPID").stdout).toBe(`${rec.pid}\n`);
    expect(q(String(rec.pid), "XID").stdout).toBe("40201\n");
    expect(q(String(sleeper.pid), "XID").stdout).toBe("0\n");
    expect(q("inner", "VDIR").stdout).toBe(`${h.vdir("inner")}\n`);
    expect(q("inner", "CFGDIR").stdout).toBe(`${h.cfg("inner")}\n`);
    expect(q("-q", "inner", "RUNNING").code).toBe(0);
    expect(q("-q", "inner", "RUNNING").stdout).toBe("");
    busyboxGuest(h, "idle", { context: "40203\n" });
    const idle = q("idle", "RUNNING");
    expect([idle.code, idle.stdout]).toEqual([1, "stopped\n"]);
    expect(q("idle", "ID").stdout).toBe("40203\n");
    const c = q("idle", "CONTEXT");
    expect([c.code, c.stderr]).toEqual([1, "vserver-info: guest 'idle' is not running.\n"]);
  });
});

describe("vserver-info FEATURE reports this host", () => {
  test("cgroup layout, controllers, runtime and namespaces", () => {
    const all = h.run("vserver-info", ["-", "FEATURE"]).stdout;
    const v2only = !existsSync("/sys/fs/cgroup/pids");
    expect(all).toMatch(new RegExp(`^CGROUP yes layout ${v2only ? "v2" : "(v1|hybrid)"}$`, "m"));
    expect(all).toMatch(/^RUNTIME yes (crun|runc)$/m);
    const memcg = existsSync("/sys/fs/cgroup/memory") || readFileSync("/sys/fs/cgroup/cgroup.controllers", "utf8").includes("memory");
    expect(h.run("vserver-info", ["-q", "-", "FEATURE", "MEMCG"]).code).toBe(memcg ? 0 : 1);
    expect(h.run("vserver-info", ["-q", "-", "FEATURE", "PIDSPACE"]).code).toBe(0);
    expect(h.run("vserver-info", ["-q", "-", "FEATURE", "IATTR"]).code).toBe(1);
    const userns = Number(readFileSync("/proc/sys/user/max_user_namespaces", "utf8")) > 0;
    expect(h.run("vserver-info", ["-q", "-", "FEATURE", "USERNS"]).code).toBe(userns ? 0 : 1);
  });
});

describe("reducecap", () => {
  const dir = `${h.root}/suid`;
  beforeAll(() => {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
    chmodSync(h.root, 0o755);
    writeFileSync(`${dir}/secret`, "top secret\n");
    chmodSync(`${dir}/secret`, 0o000); // only CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH can read it
    copyFileSync("/bin/cat", `${dir}/suidcat`);
    chmodSync(`${dir}/suidcat`, 0o4755);
  });

  const asNobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"];

  test("a setuid-root binary cannot bring a dropped capability back", () => {
    // Control: setuid root regains the capability that reads the secret.
    const control = Bun.spawnSync([...asNobody, `${dir}/suidcat`, `${dir}/secret`]);
    expect(control.stdout.toString()).toBe("top secret\n");
    const r = h.run("reducecap", ["--cap", "CAP_DAC_OVERRIDE", "--CAP_DAC_READ_SEARCH", "--", ...asNobody, `${dir}/suidcat`, `${dir}/secret`]);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/Permission denied/);
    expect(r.code).not.toBe(0);
  });

  test("--show reports the lowered set, also of another process", async () => {
    const r = h.run("reducecap", ["--secure", "--", `${BIN}/reducecap`, "--show"]);
    // The secure whitelist, within what this test itself holds.
    const mine = h.run("reducecap", ["--show"]).stdout.trim().split(" ");
    const secure = DEFAULT_CAPABILITIES.map((c) => `CAP_${c}`);
    expect(r.stdout.trim().split(" ").sort()).toEqual(secure.filter((c) => mine.includes(c)).sort());
    expect(mine).toContain("CAP_SYS_ADMIN");
    const p = Bun.spawn([`${BIN}/reducecap`, "--cap", "NET_RAW", "--", "sleep", "4724"]);
    await Bun.sleep(300);
    const shown = h.run("reducecap", ["--show", "--pid", String(p.pid)]).stdout;
    p.kill("SIGKILL");
    expect(shown).not.toContain("CAP_NET_RAW");
    expect(shown).toContain("CAP_CHOWN");
  });
});

describe("errors name the cause", () => {
  test.each([
    ["chcontext", [], 2, /^chcontext: no command given/],
    ["chcontext", ["--ctx", "x", "--", "true"], 2, /^chcontext: --ctx: 'x' is not a context number/],
    ["chcontext", ["--ctx", "0", "--", "true"], 2, /^chcontext: --ctx 0 is the host/],
    ["chcontext", ["--cap", "CAP_NOPE", "--", "true"], 2, /^chcontext: --cap: 'CAP_NOPE' is not a capability name/],
    ["chcontext", ["--hostname", "a b", "--", "true"], 2, /^chcontext: --hostname: 'a b' is not a valid name/],
    ["chcontext", ["--flag", "bogus", "--", "true"], 2, /^chcontext: --flag: 'bogus' is not a context flag/],
    ["reducecap", [], 2, /^reducecap: no command given/],
    ["reducecap", ["--cap", "NOPE", "--", "true"], 2, /^reducecap: --cap: 'NOPE' is not a capability name/],
    ["reducecap", ["--show", "--pid", "999999999"], 1, /^reducecap: no process 999999999\./],
    ["vserver-info", ["nosuch", "VDIR"], 1, /^vserver-info: no guest named 'nosuch'/],
    ["vserver-info", ["40999", "NAME"], 1, /^vserver-info: context 40999 is not a guest's\./],
    ["vserver-info", ["-", "FEATURE", "NOPE"], 2, /^vserver-info: unknown feature 'NOPE'/],
    ["vserver-info", ["inner", "BOGUS"], 2, /^vserver-info: unknown tag 'BOGUS'/],
    ["vserver-info", ["inner"], 2, /^vserver-info: usage:/],
    ["vserver-info", ["999999999", "XID"], 1, /^vserver-info: no process 999999999\./],
  ] as Array<[string, string[], number, RegExp]>)("%s %p", (cmd, args, code, re) => {
    const r = h.run(cmd, args);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(re);
    expect(r.stderr.trim().split("\n").length).toBe(1);
  });

  test("no context cgroups or labels are left", () => {
    expect(readdirSync(`${h.runDir}`).includes(".contexts")).toBe(false);
  });
});

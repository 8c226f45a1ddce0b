// A guest's life on the real runtime: build, start, what it looks like from inside and outside,
// limits, hooks, stop, and the failure paths (bad hooks, killed commands, concurrent starts).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync, mkdirSync, readdirSync } from "node:fs";
import { TestHost, busyboxGuest, BIN, killRecordedPid } from "../helpers/host";

const h = new TestHost("life");
afterAll(() => h.cleanup());

function hookScript(log: string): string {
  return `#!/bin/sh\necho "$1 $2 $(pwd)" >> ${log}\n`;
}

describe("a running busybox guest", () => {
  const hooklog = `${h.root}/hooks.log`;
  beforeAll(() => {
    const files: Record<string, string> = {
      "uts/nodename": "inner.example\n",
      bcapabilities: "CAP_NET_RAW\n!CAP_CHOWN\n",
      "rlimits/nproc": "40\n",
      "rlimits/rss": "16384\n", // pages: 64 MiB
      fstab: `none /proc proc defaults 0 0\nnone /tmp tmpfs size=8m,mode=1777 0 0\n${h.root}/shared /srv/shared none bind,ro 0 0\n`,
    };
    for (const f of ["initialize", "prepre-start", "pre-start", "post-start", "pre-stop", "post-stop", "postpost-stop"]) files[`scripts/${f}`] = hookScript(hooklog);
    mkdirSync(`${h.root}/shared`);
    writeFileSync(`${h.root}/shared/hello`, "from the host\n");
    busyboxGuest(h, "g1", files);
    h.ok("g1", "start");
  });

  test("status and running", () => {
    const s = h.vserver("g1", "status");
    expect(s.code).toBe(0);
    expect(s.stdout).toContain(`Vserver 'g1' is running at context '${h.firstContext}'`);
    expect(h.vserver("g1", "running").code).toBe(0);
    const j = JSON.parse(h.ok("g1", "status", "--json").stdout);
    expect(j.running).toBe(true);
    expect(j.context).toBe(h.firstContext);
  });

  test("hostname from uts/nodename, different from the host's", () => {
    expect(h.inGuest("g1", "hostname").stdout.trim()).toBe("inner.example");
    expect(readFileSync("/proc/sys/kernel/hostname", "utf8").trim()).not.toBe("inner.example");
  });

  test("sees only its own processes, and its init is PID 1", () => {
    const ps = h.inGuest("g1", "ps", "-o", "pid,args").stdout.trim().split("\n").slice(1);
    expect(ps.length).toBeLessThanOrEqual(4);
    expect(ps[0]).toMatch(/^\s*1\s+\/dev\/\.vserver-init/);
    // init, the init's exec handler, and the three processes of the pipeline.
    expect(h.inGuest("g1", "sh", "-c", "ls /proc | grep -c '^[0-9]'").stdout.trim()).toMatch(/^[1-5]$/);
    // Our own test process is not visible inside.
    expect(h.inGuest("g1", "test", "-e", `/proc/${process.pid}/cmdline`).code).not.toBe(0);
  });

  test("capabilities as configured: NET_RAW added, CHOWN removed, SYS_ADMIN absent", () => {
    const bnd = h.inGuest("g1", "grep", "CapBnd", "/proc/self/status").stdout.split(/\s+/)[1]!;
    const caps = BigInt("0x" + bnd);
    expect(caps & (1n << 13n)).toBe(1n << 13n); // NET_RAW
    expect(caps & 1n).toBe(0n); // CHOWN
    expect(caps & (1n << 21n)).toBe(0n); // SYS_ADMIN
    expect(h.inGuest("g1", "chown", "nobody", "/tmp").code).not.toBe(0);
  });

  test("mknod of a block device fails; sysrq-trigger is not writable", () => {
    const r = h.inGuest("g1", "mknod", "/tmp/sda", "b", "8", "0");
    expect(r.code).not.toBe(0);
    expect(h.inGuest("g1", "sh", "-c", "echo h > /proc/sysrq-trigger").code).not.toBe(0);
  });

  test("fstab: tmpfs size and a read-only bind of a host directory", () => {
    expect(h.inGuest("g1", "cat", "/srv/shared/hello").stdout).toBe("from the host\n");
    expect(h.inGuest("g1", "sh", "-c", "echo x > /srv/shared/new").code).not.toBe(0);
    expect(h.inGuest("g1", "df", "-k", "/tmp").stdout).toMatch(/\s8192\s/);
  });

  test("the pids limit stops a fork loop at the limit", () => {
    const ctx = JSON.parse(readFileSync(`${h.runDir}/g1`, "utf8")).cgroupPath;
    const cg = ["/sys/fs/cgroup/pids", "/sys/fs/cgroup"].map((m) => `${m}${ctx}`).find((d) => existsSync(`${d}/pids.max`))!;
    expect(readFileSync(`${cg}/pids.max`, "utf8").trim()).toBe("40");
    h.inGuest("g1", "sh", "-c", "n=0; while [ $n -lt 100 ]; do sleep 30 </dev/null >/dev/null 2>&1 & n=$((n+1)); done 2>/dev/null; exit 0");
    const current = Number(readFileSync(`${cg}/pids.current`, "utf8"));
    expect(current).toBeGreaterThanOrEqual(35);
    expect(current).toBeLessThanOrEqual(40);
    expect(readFileSync(`${cg}/pids.events`, "utf8")).toMatch(/max [1-9]/);
    h.inGuest("g1", "killall", "sleep");
  });

  test("the memory limit kills an allocation above it", () => {
    const r = h.inGuest("g1", "sh", "-c", "head -c 200000000 /dev/zero | tail -c 1 >/dev/null; x=$(head -c 150000000 /dev/zero | tr '\\0' a); echo ${#x}");
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toMatch(/150000000/);
    expect(h.vserver("g1", "running").code).toBe(0);
  });

  test("exec passes stdin, stdout, stderr and the exit status through", () => {
    const r = h.run("vserver", ["g1", "exec", "sh", "-c", "cat; echo err >&2; exit 7"], { input: "piped\n" });
    expect(r.stdout).toBe("piped\n");
    expect(r.stderr).toBe("err\n");
    expect(r.code).toBe(7);
  });

  test("suexec runs as the given user", () => {
    expect(h.vserver("g1", "suexec", "nobody", "id", "-u").stdout.trim()).toBe("65534");
  });

  test("a second start warns and succeeds without a second guest", () => {
    const r = h.vserver("g1", "start");
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/already running/);
  });

  test("stop runs the hooks in order with their arguments, and leaves nothing running", () => {
    const pid1 = JSON.parse(readFileSync(`${h.runDir}/g1`, "utf8")).pid;
    h.ok("g1", "stop");
    expect(existsSync(`/proc/${pid1}/cmdline`) && readFileSync(`/proc/${pid1}/stat`, "utf8").split(" ")[2] !== "Z").toBe(false);
    const s = h.vserver("g1", "status");
    expect(s.code).toBe(3);
    expect(h.vserver("g1", "running").code).toBe(1);
    const lines = readFileSync(hooklog, "utf8").trim().split("\n");
    const cfg = h.cfg("g1");
    const vdir = h.vdir("g1");
    expect(lines).toEqual([
      `initialize g1 ${cfg}`, `prepre-start g1 ${cfg}`, `pre-start g1 ${vdir}`, `post-start g1 ${vdir}`,
      `pre-stop g1 ${vdir}`, `post-stop g1 ${vdir}`, `postpost-stop g1 ${vdir}`,
    ]);
    expect(h.leftovers()).toEqual([]);
    const stop2 = h.vserver("g1", "stop");
    expect(stop2.code).toBe(0);
    expect(stop2.stderr).toMatch(/not running/);
  });
});

describe("start failures leave nothing behind", () => {
  test("a command on a guest that does not exist makes no run state (no lock directory)", () => {
    const empty = new TestHost("noguest");
    try {
      for (const args of [["start"], ["stop"], ["restart"], ["delete", "--force"], ["exec", "true"]]) {
        const r = empty.vserver("nosuch", ...args);
        expect(`${args[0]} ${r.code} ${r.stderr}`).toBe(`${args[0]} 1 vserver: no guest named 'nosuch' (no directory ${empty.confDir}/nosuch).\n`);
      }
      expect(existsSync(`${empty.root}/run`)).toBe(false);
    } finally {
      empty.cleanup();
    }
  });

  test("a failing pre-start hook fails start with its message", () => {
    busyboxGuest(h, "badhook", { "scripts/pre-start": "#!/bin/sh\necho 'database not ready' >&2\nexit 3\n" });
    const r = h.vserver("badhook", "start");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pre-start hook .* failed \(exit status 3\): database not ready/);
    expect(h.vserver("badhook", "running").code).toBe(1);
    expect(h.leftovers()).toEqual([]);
  });

  test("a failing start command is reported with the log, and rolled back", () => {
    busyboxGuest(h, "badrc", { "apps/init/cmd.start": "/bin/false\n" });
    const r = h.vserver("badrc", "start");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/start command '\/bin\/false' failed with exit status 1; see .*badrc\.log/);
    expect(h.leftovers()).toEqual([]);
  });

  test("a guest whose root is gone", () => {
    busyboxGuest(h, "noroot");
    Bun.spawnSync(["rm", "-rf", h.vdir("noroot")]);
    const r = h.vserver("noroot", "start");
    expect(r.stderr).toMatch(/root of guest 'noroot' .* does not exist/);
    expect(h.leftovers()).toEqual([]);
  });

  test("a malformed config file fails with its name", () => {
    busyboxGuest(h, "badcfg", { "rlimits/nproc": "lots\n" });
    const r = h.vserver("badcfg", "start");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`vserver: ${h.cfg("badcfg")}/rlimits/nproc: 'lots' is not a whole number.\n`);
  });

  test("an unsupported setting is reported once, naming its file", () => {
    busyboxGuest(h, "warn", { ccapabilities: "set_utsname\n" });
    const r = h.vserver("warn", "start");
    expect(r.code).toBe(0);
    expect(r.stderr.match(/ccapabilities/g)?.length).toBe(1);
    h.ok("warn", "stop");
  });
});

describe("init styles and stop sequence", () => {
  test("sysv style starts the guest's rc services and stops them", () => {
    busyboxGuest(h, "svc");
    const root = h.vdir("svc");
    writeFileSync(`${root}/etc/init.d/sleeper`, "#!/bin/sh\ncase $1 in start) sleep 1000 & echo $! > /run/sleeper.pid ;; stop) kill $(cat /run/sleeper.pid) ;; esac\n", { mode: 0o755 });
    Bun.spawnSync(["ln", "-s", "../init.d/sleeper", `${root}/etc/rc3.d/S10sleeper`]);
    Bun.spawnSync(["ln", "-s", "../init.d/sleeper", `${root}/etc/rc6.d/K10sleeper`]);
    h.ok("svc", "start");
    expect(h.inGuest("svc", "pidof", "sleep").code).toBe(0);
    const stopped = h.vserver("svc", "service", "sleeper", "stop");
    expect(stopped.code).toBe(0);
    expect(h.inGuest("svc", "pidof", "sleep").code).toBe(1);
    h.ok("svc", "stop");
  });

  test("plain style: the guest's own init is PID 1; killseq ends processes that ignore TERM", () => {
    busyboxGuest(h, "plain", { "apps/init/style": "plain\n", "apps/init/killseq": "TERM\n1\nKILL\n" });
    const root = h.vdir("plain");
    writeFileSync(`${root}/etc/inittab`, "::sysinit:/bin/sh -c 'trap \"\" TERM; exec sleep 1000' &\n::respawn:/bin/sleep 2000\n");
    h.ok("plain", "start");
    expect(h.inGuest("plain", "cat", "/proc/1/cmdline").stdout).toMatch(/^init/);
    h.ok("plain", "stop");
    expect(h.vserver("plain", "running").code).toBe(1);
    expect(h.leftovers()).toEqual([]);
  });
});

describe("races and killed commands", () => {
  test("two concurrent starts leave one guest and a clear message", async () => {
    busyboxGuest(h, "race");
    const spawn = () => Bun.spawn([`${BIN}/vserver`, "race", "start"], { env: h.env, stdout: "pipe", stderr: "pipe" });
    const a = spawn();
    const b = spawn();
    const [ca, cb] = await Promise.all([a.exited, b.exited]);
    const errs = (await new Response(a.stderr).text()) + (await new Response(b.stderr).text());
    expect([ca, cb]).toEqual([0, 0]);
    expect(errs).toMatch(/already running/);
    const list = readdirSync(`${h.runDir}/.runtime/crun`).filter((n) => n === "race");
    expect(list.length).toBe(1);
    h.ok("race", "stop");
  });

  test("kill -9 of vserver during start does not block the next start or stop", async () => {
    busyboxGuest(h, "killed", { "scripts/pre-start": `#!/bin/sh\necho $$ > ${h.root}/hook.pid\nexec sleep 30\n` });
    const p = Bun.spawn([`${BIN}/vserver`, "killed", "start"], { env: h.env, stdout: "ignore", stderr: "ignore" });
    for (let i = 0; i < 100 && !existsSync(`${h.root}/run/vservers/.bundles/killed/config.json`); i++) await Bun.sleep(50);
    p.kill(9);
    await p.exited;
    killRecordedPid(`${h.root}/hook.pid`, "sleep");
    writeFileSync(`${h.cfg("killed")}/scripts/pre-start`, "#!/bin/sh\nexit 0\n");
    h.ok("killed", "start");
    expect(h.vserver("killed", "running").code).toBe(0);
    h.ok("killed", "stop");
    expect(h.leftovers()).toEqual([]);
  });

  test("kill -9 of vserver during stop does not block the next stop", async () => {
    busyboxGuest(h, "killstop", { "scripts/pre-stop": "#!/bin/sh\nsleep 30\n" });
    h.ok("killstop", "start");
    const p = Bun.spawn([`${BIN}/vserver`, "killstop", "stop"], { env: h.env, stdout: "ignore", stderr: "ignore" });
    await Bun.sleep(700);
    p.kill(9);
    await p.exited;
    writeFileSync(`${h.cfg("killstop")}/scripts/pre-stop`, "#!/bin/sh\nexit 0\n");
    h.ok("killstop", "stop");
    expect(h.vserver("killstop", "running").code).toBe(1);
    expect(h.leftovers()).toEqual([]);
  });
});

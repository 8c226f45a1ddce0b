// Build methods, the guest list, delete and convert, on real trees; and bad input for each.

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { TestHost, BIN, killRecordedPid } from "../helpers/host";

const h = new TestHost("build");
/** A fill command that sleeps and records its PID, so the test can kill exactly it. */
const sleepRecorded = (label: string) => ["/bin/sh", "-c", `echo $$ > ${h.root}/${label}.pid; exec /bin/sleep 30`];
afterAll(() => h.cleanup());

function noDebris(name: string) {
  const hidden = [h.confDir, `${h.root}/vservers`].flatMap((d) => (existsSync(d) ? readdirSync(d) : [])).filter((f) => f.startsWith(`.${name}.build-`));
  expect(hidden).toEqual([]);
}

describe("build", () => {
  test("busybox: config in util-vserver's layout and a working root", () => {
    const r = h.ok("bb", "build", "-m", "busybox", "--hostname", "bb.example", "--flags", "lock", "--initstyle", "sysv");
    expect(r.stdout).toContain(`guest 'bb' built: context ${h.firstContext}`);
    expect(readFileSync(`${h.cfg("bb")}/context`, "utf8")).toBe(`${h.firstContext}\n`);
    expect(readFileSync(`${h.cfg("bb")}/uts/nodename`, "utf8")).toBe("bb.example\n");
    expect(readFileSync(`${h.cfg("bb")}/cflags`, "utf8")).toBe("lock\n");
    expect(readFileSync(`${h.cfg("bb")}/apps/init/style`, "utf8")).toBe("sysv\n");
    expect(readlinkSync(`${h.cfg("bb")}/vdir`)).toBe(h.vdir("bb"));
    expect(readFileSync(`${h.vdir("bb")}/etc/hostname`, "utf8")).toBe("bb.example\n");
    expect(lstatSync(`${h.vdir("bb")}/bin/sh`).isSymbolicLink()).toBe(true);
    expect(readFileSync(`${h.cfg("bb")}/fstab`, "utf8")).toMatch(/\/proc\s+proc/);
  });

  test(".defaults/vdirbase moves the roots of new guests, as in util-vserver", () => {
    const base = `${h.root}/srv-guests`;
    mkdirSync(base);
    mkdirSync(`${h.confDir}/.defaults`, { recursive: true });
    symlinkSync(base, `${h.confDir}/.defaults/vdirbase`);
    try {
      h.ok("based", "build", "-m", "skeleton", "-q");
      expect(readlinkSync(`${h.cfg("based")}/vdir`)).toBe(`${base}/based`);
      expect(existsSync(`${base}/based/etc/hostname`)).toBe(true);
      h.ok("based", "delete", "--force");
      expect(existsSync(`${base}/based`)).toBe(false);
    } finally {
      Bun.spawnSync(["rm", "-f", `${h.confDir}/.defaults/vdirbase`]);
    }
  });

  test("the next build takes the next context; a used context is refused", () => {
    h.ok("bb2", "build", "-m", "busybox", "-q");
    expect(readFileSync(`${h.cfg("bb2")}/context`, "utf8")).toBe(`${h.firstContext + 1}\n`);
    const r = h.vserver("bb3", "build", "-m", "busybox", "--context", String(h.firstContext));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--context: context ${h.firstContext} is already used by guest 'bb'`);
    expect(existsSync(h.cfg("bb3"))).toBe(false);
    noDebris("bb3");
  });

  test("builds running at the same time get different contexts", async () => {
    const names = ["par1", "par2", "par3", "par4", "par5"];
    const procs = names.map((n) => Bun.spawn([`${BIN}/vserver`, n, "build", "-m", "skeleton", "-q"], { env: h.env, stdout: "ignore", stderr: "pipe" }));
    expect(await Promise.all(procs.map((p) => p.exited))).toEqual(names.map(() => 0));
    const ctxs = names.map((n) => readFileSync(`${h.cfg(n)}/context`, "utf8").trim());
    expect(new Set(ctxs).size).toBe(names.length);
    for (const n of names) h.ok(n, "delete", "--force");
  });

  test("an existing guest is not overwritten without --force", () => {
    const r = h.vserver("bb2", "build", "-m", "busybox");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already exists .*--force/);
    h.ok("bb2", "build", "-m", "busybox", "--force", "-q", "--hostname", "again");
    expect(readFileSync(`${h.vdir("bb2")}/etc/hostname`, "utf8")).toBe("again\n");
    expect(readFileSync(`${h.cfg("bb2")}/context`, "utf8")).toBe(`${h.firstContext + 1}\n`);
  });

  test("skeleton with a fill command", () => {
    h.ok("sk", "build", "-m", "skeleton", "-q", "--", "--", "/bin/sh", "-c", "echo filled > marker");
    expect(readFileSync(`${h.vdir("sk")}/marker`, "utf8")).toBe("filled\n");
    expect(existsSync(`${h.vdir("sk")}/proc`)).toBe(true);
  });

  test("a failing fill command leaves no guest behind", () => {
    const r = h.vserver("skbad", "build", "-m", "skeleton", "-q", "--", "--", "/bin/false");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/fill command '\/bin\/false' failed/);
    expect(existsSync(h.cfg("skbad"))).toBe(false);
    expect(existsSync(h.vdir("skbad"))).toBe(false);
    noDebris("skbad");
  });

  test("an interrupted build (SIGTERM) leaves nothing", async () => {
    const p = Bun.spawn([`${BIN}/vserver`, "slow", "build", "-m", "skeleton", "-q", "--", "--", ...sleepRecorded("slow")], { env: h.env, stdout: "ignore", stderr: "pipe" });
    for (let i = 0; i < 100 && !readdirSync(h.confDir).some((f) => f.startsWith(".slow.build-")); i++) await Bun.sleep(20);
    await Bun.sleep(500);
    p.kill("SIGTERM");
    expect(await p.exited).toBe(143);
    expect(await new Response(p.stderr).text()).toMatch(/interrupted; nothing was kept/);
    killRecordedPid(`${h.root}/slow.pid`, "sleep");
    expect(existsSync(h.cfg("slow"))).toBe(false);
    noDebris("slow");
  });

  test("debris of a build killed with -9 is removed by the next build of that name", async () => {
    const p = Bun.spawn([`${BIN}/vserver`, "k9", "build", "-m", "skeleton", "-q", "--", "--", ...sleepRecorded("k9")], { env: h.env, stdout: "ignore", stderr: "ignore" });
    await Bun.sleep(800);
    p.kill(9);
    await p.exited;
    killRecordedPid(`${h.root}/k9.pid`, "sleep");
    expect(readdirSync(h.confDir).some((f) => f.startsWith(".k9.build-"))).toBe(true);
    expect(existsSync(h.cfg("k9"))).toBe(false);
    h.ok("k9", "build", "-m", "skeleton", "-q");
    noDebris("k9");
  });

  test("clone: a copy with its own context and hostname, and the source's settings", () => {
    writeFileSync(`${h.cfg("bb")}/nice`, "3\n");
    writeFileSync(`${h.vdir("bb")}/root/data`, "source data\n");
    h.ok("cl", "build", "-m", "clone", "-q", "--hostname", "cl.example", "--", "-s", "bb");
    expect(readFileSync(`${h.vdir("cl")}/root/data`, "utf8")).toBe("source data\n");
    expect(readFileSync(`${h.cfg("cl")}/nice`, "utf8")).toBe("3\n");
    expect(readFileSync(`${h.cfg("cl")}/context`, "utf8")).not.toBe(readFileSync(`${h.cfg("bb")}/context`, "utf8"));
    expect(readFileSync(`${h.vdir("cl")}/etc/hostname`, "utf8")).toBe("cl.example\n");
    expect(readlinkSync(`${h.cfg("cl")}/vdir`)).toBe(h.vdir("cl"));
    h.ok("cl", "start");
    expect(h.inGuest("cl", "hostname").stdout.trim()).toBe("cl.example");
    h.ok("cl", "stop");
  });

  test("template: from a tarball; planted symlinks in it cannot redirect the host's writes", () => {
    const src = `${h.root}/tpl-src`;
    mkdirSync(`${src}/etc`, { recursive: true });
    mkdirSync(`${src}/bin`, { recursive: true });
    Bun.spawnSync(["cp", "/bin/busybox", `${src}/bin/busybox`]);
    symlinkSync("busybox", `${src}/bin/sh`);
    const outside = `${h.root}/outside-hostname`;
    writeFileSync(outside, "untouched\n");
    symlinkSync(outside, `${src}/etc/hostname`);
    symlinkSync("../../../../../../../../etc/hosts", `${src}/etc/hosts`);
    const tar = `${h.root}/tpl.tar.gz`;
    expect(Bun.spawnSync(["tar", "-czf", tar, "-C", src, "."]).exitCode).toBe(0);
    const hostHosts = readFileSync("/etc/hosts", "utf8");
    h.ok("tp", "build", "-m", "template", "-q", "--", "-t", tar);
    expect(readFileSync(outside, "utf8")).toBe("untouched\n");
    expect(readFileSync("/etc/hosts", "utf8")).toBe(hostHosts);
    expect(lstatSync(`${h.vdir("tp")}/etc/hostname`).isFile()).toBe(true);
    expect(readFileSync(`${h.vdir("tp")}/etc/hostname`, "utf8")).toBe("tp\n");
  });

  const bad: Array<[string, string[], RegExp]> = [
    ["no method", ["x1", "build"], /-m METHOD is required/],
    ["unknown method", ["x1", "build", "-m", "yum"], /unknown build method 'yum'/],
    ["bad name", ["bad/name", "build", "-m", "busybox"], /not a valid guest name/],
    ["bad context", ["x1", "build", "-m", "busybox", "--context", "abc"], /--context: 'abc' is not a whole number/],
    ["context out of range", ["x1", "build", "-m", "busybox", "--context", "1"], /--context: 1 is below/],
    ["bad init style", ["x1", "build", "-m", "busybox", "--initstyle", "upstart"], /--initstyle: unknown init style 'upstart'/],
    ["bad flag", ["x1", "build", "-m", "busybox", "--flags", "fast"], /--flags: 'fast' is not a context flag/],
    ["unknown option", ["x1", "build", "-m", "busybox", "--colour"], /build: Unknown option '--colour'/],
    ["clone without source", ["x1", "build", "-m", "clone"], /-s OTHER .* is required/],
    ["clone of unknown guest", ["x1", "build", "-m", "clone", "--", "-s", "nobody"], /no guest named 'nobody'/],
    ["template without archive", ["x1", "build", "-m", "template"], /-t ARCHIVE .* is required/],
    ["template archive missing", ["x1", "build", "-m", "template", "--", "-t", "/nonexistent.tar"], /archive \/nonexistent.tar does not exist/],
    ["debootstrap without suite", ["x1", "build", "-m", "debootstrap"], /-d SUITE is required/],
    ["debootstrap bad mirror", ["x1", "build", "-m", "debootstrap", "--", "-d", "bookworm", "-m", "nope"], /'nope' is not a mirror URL/],
  ];
  for (const [what, args, re] of bad) {
    test(`rejects ${what} with one line, leaving nothing`, () => {
      const r = h.vserver(...args);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split("\n").length).toBe(1);
      expect(existsSync(h.cfg("x1"))).toBe(false);
      expect(existsSync(h.vdir("x1"))).toBe(false);
      noDebris("x1");
    });
  }
});

describe("list, delete, convert", () => {
  test("--list and --json", () => {
    const text = h.ok("--list").stdout;
    expect(text.split("\n")[0]).toMatch(/^NAME\s+CTX\s+STATE\s+INIT\s+ROOT$/);
    expect(text).toMatch(new RegExp(`^bb\\s+${h.firstContext}\\s+stopped\\s+sysv\\s+`, "m"));
    const j = JSON.parse(h.ok("--list", "--json").stdout);
    expect(j.find((g: any) => g.name === "bb")).toMatchObject({ running: false, context: h.firstContext, initStyle: "sysv", vdir: h.vdir("bb") });
  });

  test("delete refuses without a terminal or --force, then removes root and config", () => {
    const r = h.vserver("bb2", "delete");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/needs confirmation.*--force/);
    expect(existsSync(h.vdir("bb2"))).toBe(true);
    h.ok("bb2", "start");
    h.ok("bb2", "delete", "--force");
    expect(existsSync(h.vdir("bb2"))).toBe(false);
    expect(existsSync(h.cfg("bb2"))).toBe(false);
    expect(h.leftovers()).toEqual([]);
  });

  test("convert: a legacy NAME.conf becomes a config directory, never executed", () => {
    const marker = `${h.root}/pwned`;
    writeFileSync(`${h.confDir}/old.conf`, `S_HOSTNAME=old.example\nS_CONTEXT=4242\nS_CAPS="CAP_NET_RAW"\n$(touch ${marker})\ntouch ${marker}\n`);
    const r = h.ok("old", "convert");
    expect(r.stderr).toMatch(/shell code is not run/);
    expect(existsSync(marker)).toBe(false);
    expect(readFileSync(`${h.cfg("old")}/uts/nodename`, "utf8")).toBe("old.example\n");
    expect(readFileSync(`${h.cfg("old")}/context`, "utf8")).toBe("4242\n");
    const again = h.vserver("old", "convert");
    expect(again.stderr).toMatch(/already has a config directory/);
  });

  test("a guest with only a legacy config is used as it is (tests/integration/legacy-conf.test.ts)", () => {
    writeFileSync(`${h.confDir}/legacyonly.conf`, "S_HOSTNAME=x\n");
    const r = h.vserver("legacyonly", "start");
    expect(r.stderr).toMatch(/the root of guest 'legacyonly' \(.*\/vservers\/legacyonly\) does not exist; build the guest first/);
    expect(h.ok("--list").stdout).toMatch(/^legacyonly\s+-?\s*stopped/m);
  });

  test("commands on unknown guests and bad verbs fail with one line", () => {
    for (const verb of ["start", "stop", "status", "exec", "enter", "delete"]) {
      const r = h.vserver("ghost", verb, ...(verb === "exec" ? ["true"] : []));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/no guest named 'ghost'/);
    }
    expect(h.vserver("bb", "fly").stderr).toMatch(/unknown command 'fly'/);
    expect(h.vserver("bb", "exec").stderr).toMatch(/exec: no command given/);
    expect(h.vserver("bb", "exec", "true").stderr).toMatch(/guest 'bb' is not running/);
    expect(h.vserver("bb", "start", "now").stderr).toMatch(/start: unexpected argument 'now'/);
  });
});

// Boot integration (boot/, `make install-boot`): the systemd units pass systemd-analyze verify
// with the installed paths, the generator turns marks and depends of a test state root into
// units' wants and ordering (never the host's systemd: it writes into a directory of the test's),
// and the sysv script starts, shows and stops the marked guests of a test state root.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { BIN, REPO, TestHost, busyboxGuest } from "../helpers/host";

const h = new TestHost("tbboot");
const PREFIX = `${h.root}/inst/usr`;
const UNITDIR = `${PREFIX}/lib/systemd/system`;
const INITDIR = `${h.root}/inst/init.d`;

beforeAll(() => {
  const r = Bun.spawnSync(["make", "-s", "-C", REPO, "install-boot", `PREFIX=${PREFIX}`, `INITDIR=${INITDIR}`], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`make install-boot failed: ${r.stderr}`);
  // The installed units name PREFIX/sbin: the checkout's commands stand in for an installation.
  symlinkSync(BIN, `${PREFIX}/sbin`);
  for (const n of ["db", "web", "app", "loose"]) busyboxGuest(h, n);
  const set = (n: string, f: string, c: string) => {
    mkdirSync(`${h.cfg(n)}/apps/init`, { recursive: true });
    writeFileSync(`${h.cfg(n)}/apps/init/${f}`, c);
  };
  set("db", "mark", "default\n");
  set("web", "mark", "default\n");
  set("web", "depends", "db\n");
  set("app", "mark", "other\n");
  set("app", "depends", "web db # both\n");
  set("loose", "mark", "../../etc\n");
});

afterAll(() => h.cleanup());

const run = (argv: string[], env: Record<string, string> = {}) => {
  const r = Bun.spawnSync(argv, { env: { ...h.env, ...env }, stdout: "pipe", stderr: "pipe", timeout: 180_000 });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
};

describe("make install-boot", () => {
  test("installs the units, the generator and the sysv script with this installation's paths; systemd-analyze verify accepts them", () => {
    for (const f of ["vservers.service", "vserver@.service", "vservers.target", "vserver-mark@.target"]) {
      const text = readFileSync(`${UNITDIR}/${f}`, "utf8");
      expect(text).not.toMatch(/@(SBINDIR|UNITDIR)@/);
    }
    expect(readFileSync(`${UNITDIR}/vservers.service`, "utf8")).toContain(`ExecStart=${PREFIX}/sbin/start-vservers --start --marked -m \${MARK} -j \${NUMPARALLEL}`);
    expect(lstatSync(`${PREFIX}/lib/systemd/system-generators/vserver-generator`).mode & 0o111).not.toBe(0);
    expect(readFileSync(`${INITDIR}/vservers`, "utf8")).toContain(`sbin=\${VSERVER_SBIN:-${PREFIX}/sbin}`);
    const v = run(["systemd-analyze", "verify", "vservers.service", "vserver@web.service", "vservers.target", "vserver-mark@default.target"].map((a, i) => (i < 2 ? a : `${UNITDIR}/${a}`)));
    expect(v.stderr).toBe("");
    expect(v.code).toBe(0);
  });
});

describe("make install-man", () => {
  test("a manual page for every command, made from its own --help", () => {
    const mandir = `${h.root}/inst/man`;
    const r = Bun.spawnSync(["make", "-s", "-C", REPO, "install-man", `MANDIR=${mandir}`], { stdout: "pipe", stderr: "pipe", timeout: 300_000 });
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
    const { COMMANDS } = require("../../src/cli/commands");
    const { DESCRIPTIONS } = require("../../src/cli/descriptions");
    for (const c of [...Object.keys(COMMANDS), "vserverd"]) {
      const page = readFileSync(`${mandir}/man8/${c}.8`, "utf8");
      expect(page).toContain(`${c} \\- ${DESCRIPTIONS[c]}`);
      // The first words of the command's usage line are in the page.
      const help = run([`${BIN}/${c}`, "--help"]).stdout;
      const word = /(?<![\w-])--?[a-z][a-z-]+/.exec(help)?.[0];
      if (word) expect(page.includes(word) || page.includes(word.replace(/-/g, "\\-"))).toBe(true);
    }
  }, 300_000);
});

describe("the generator", () => {
  test("marks become vserver-mark@MARK.target wants, depends become After=/Wants=; a bad mark is skipped and said", () => {
    const out = `${h.root}/gen`;
    mkdirSync(out);
    const r = run([`${PREFIX}/lib/systemd/system-generators/vserver-generator`, out, `${out}-early`, `${out}-late`]);
    expect(r.code).toBe(0);
    expect(readdirSync(`${out}/vserver-mark@default.target.wants`).sort()).toEqual(["vserver@db.service", "vserver@web.service"]);
    expect(readlinkSync(`${out}/vserver-mark@default.target.wants/vserver@db.service`)).toBe(`${UNITDIR}/vserver@.service`);
    expect(readdirSync(`${out}/vserver-mark@other.target.wants`)).toEqual(["vserver@app.service"]);
    expect(readFileSync(`${out}/vserver@app.service.d/50-depends.conf`, "utf8")).toContain("After=vserver@web.service vserver@db.service\nWants=vserver@web.service vserver@db.service\n");
    expect(existsSync(`${out}/vserver@db.service.d`)).toBe(false);
    expect(r.stderr).toContain(`${h.cfg("loose")}/apps/init/mark: '../../etc' is not a mark name; skipped`);
    expect(readdirSync(out).sort()).toEqual(["vserver-mark@default.target.wants", "vserver-mark@other.target.wants", "vserver@app.service.d", "vserver@web.service.d"]);
  });
});

describe("the sysv script", () => {
  const script = `${INITDIR}/vservers`;
  const env = { VSERVER_SBIN: BIN, VSERVER_DEFAULTS: `${h.root}/default-vservers` };

  test("start starts the guests of the mark in depends order, status shows them, stop stops them", () => {
    writeFileSync(env.VSERVER_DEFAULTS, "# test\nMARK=\"default\"\nNUMPARALLEL=2\n");
    const s = run([script, "start"], env);
    expect(s.code).toBe(0);
    expect(s.stdout).toContain("db: started");
    expect(s.stdout).toContain("web: started");
    expect(h.vserver("app", "running").code).toBe(1);
    const st = run([script, "status"], env);
    expect(st.code).toBe(0);
    expect(st.stdout).toMatch(/^web\s+\d+\s+running\s+default/m);
    expect(st.stdout).toMatch(/^app\s+\S+\s+stopped\s+other/m);
    const p = run([script, "stop"], env);
    expect(p.code).toBe(0);
    expect(h.vserver("db", "running").code).toBe(1);
    expect(h.vserver("web", "running").code).toBe(1);
  });

  test("a defaults file is data: a bad value is refused with the file, and nothing starts", () => {
    writeFileSync(env.VSERVER_DEFAULTS, "MARK=$(touch /tmp/owned)\n");
    const r = run([script, "start"], env);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain(`${env.VSERVER_DEFAULTS}: MARK='$(touch /tmp/owned)' is not a mark name`);
    expect(existsSync("/tmp/owned")).toBe(false);
    expect(h.vserver("db", "running").code).toBe(1);
    expect(run([script, "frobnicate"], env).code).toBe(2);
  });
});

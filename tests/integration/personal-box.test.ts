// The personal security box (seed 003 §2.6, §6.1): an ordinary user, made by this test, runs
// chcontext and gets user, PID, mount, UTS and IPC namespaces of their own without any setuid
// helper; reducecap as that user fails with one sentence. And the argument forms util-vserver
// accepted: the options end at the first word that is not one, or at `--`.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { BIN, TestHost, compileStatic } from "../helpers/host";

const h = new TestHost("box");
const USER = `vstb${Math.random().toString(36).slice(2, 8)}`;
let userMade = false;
let uid = -1;
let sleeper: ReturnType<typeof Bun.spawn> | undefined;
const tmp = mkdtempSync("/tmp/vserver-box-");

/** A command line run as the test's ordinary user; every word is ours, quoted for sh. */
function asUser(words: string[]) {
  const line = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(" ");
  const r = Bun.spawnSync(["su", "-s", "/bin/sh", USER, "-c", line], { cwd: "/", env: { ...h.env, PATH: process.env.PATH ?? "/usr/bin:/bin" }, stdout: "pipe", stderr: "pipe", timeout: 60_000 });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

beforeAll(() => {
  const u = Bun.spawnSync(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", USER], { stderr: "pipe" });
  if (u.exitCode !== 0) throw new Error(`useradd: ${u.stderr}`);
  userMade = true;
  uid = Number(Bun.spawnSync(["id", "-u", USER]).stdout.toString().trim());
  // A process of the user's outside the box, which the box must not see.
  sleeper = Bun.spawn(["setpriv", `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "sleep", "300"], { stdio: ["ignore", "ignore", "ignore"] });
});

afterAll(() => {
  sleeper?.kill("SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
  try {
    h.cleanup();
  } finally {
    if (userMade) Bun.spawnSync(["userdel", USER]);
  }
});

describe("chcontext as an ordinary user", () => {
  test("the box: CMD runs as the user, sees only its own processes, with its own names", () => {
    const r = asUser([`${BIN}/chcontext`, "--hostname", "userbox", "--domainname", "userdom", "sh", "-c", "id -u; hostname; domainname; ps -e -o pid=,comm=; grep CapEff /proc/self/status"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => l.trim());
    expect(lines[0]).toBe(String(uid));
    expect(lines.slice(1, 3)).toEqual(["userbox", "userdom"]);
    const procs = lines.filter((l) => /^\d+ /.test(l));
    expect(procs[0]).toBe("1 sh");
    expect(procs.map((l) => l.split(" ")[1])).not.toContain("sleep");
    expect(lines.at(-1)).toMatch(/^CapEff:\s+0+$/);
    // The host's names are untouched.
    expect(Bun.spawnSync(["hostname"]).stdout.toString().trim()).not.toBe("userbox");
  });

  test("no setuid helper: a setuid-root program gives nothing inside the box; outside it would (the check is real)", () => {
    const prog = `${tmp}/idprobe`;
    writeFileSync(`${tmp}/p.c`, '#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf("euid=%d\\n", (int)geteuid()); return 0; }\n');
    compileStatic(`${tmp}/p.c`, prog);
    chmodSync(tmp, 0o755);
    chmodSync(prog, 0o4755);
    expect(asUser([prog]).stdout.trim()).toBe("euid=0");
    const boxed = asUser([`${BIN}/chcontext`, prog]);
    expect(`${boxed.stdout.trim()} // ${boxed.stderr}`).toBe(`euid=${uid} // `);
  });

  test("--secure: nothing below CMD may gain privileges", () => {
    const r = asUser([`${BIN}/chcontext`, "--secure", "grep", "NoNewPrivs", "/proc/self/status"]);
    expect(r.stdout).toMatch(/NoNewPrivs:\s+1/);
  });

  test("what only the host's root may do is refused in one sentence, and no cgroup error shows", () => {
    let r = asUser([`${BIN}/chcontext`, "--ctx", "49990", "true"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^chcontext: --ctx: only the host's root chooses context numbers[^\n]*\.\n$/);
    r = asUser([`${BIN}/chcontext`, "--cap", "NET_RAW", "true"]);
    expect(r.stderr).toMatch(/^chcontext: --cap: [^\n]*\.\n$/);
    expect(r.stderr).not.toContain("EACCES");
  });
});

describe("reducecap as an ordinary user", () => {
  test("--secure fails with one sentence instead of changing nothing", () => {
    const r = asUser([`${BIN}/reducecap`, "--secure", "id"]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^reducecap: lowering the capability bounding set needs CAP_SETPCAP[^\n]*\.\n$/);
  });
});

describe("argument forms", () => {
  test("chcontext CMD with options of its own, and chcontext -- CMD (the form --help prints)", () => {
    let r = h.run("chcontext", ["--silent", "ps", "-e", "-o", "pid="]);
    expect(`${r.code} ${r.stderr}`).toBe("0 ");
    expect(r.stdout.trim().split(/\s+/)[0]).toBe("1");
    r = h.run("chcontext", ["--", "sh", "-c", "echo x"]);
    expect(r.stdout).toBe("x\n");
    r = h.run("chcontext", ["--silent", "--hostname", "hbox", "--", "hostname"]);
    expect(r.stdout).toBe("hbox\n");
  });

  test("reducecap CMD and reducecap -- CMD; util-vserver's --CAP_NAME form", () => {
    expect(h.run("reducecap", ["sh", "-c", "echo y"]).stdout).toBe("y\n");
    expect(h.run("reducecap", ["--", "sh", "-c", "echo z"]).stdout).toBe("z\n");
    const r = h.run("reducecap", ["--CAP_NET_RAW", "grep", "CapBnd", "/proc/self/status"]);
    const mask = BigInt("0x" + /CapBnd:\s+([0-9a-f]+)/.exec(r.stdout)![1]);
    expect(mask & (1n << 13n)).toBe(0n);
  });

  test("an unknown option before the command is still one plain sentence", () => {
    const r = h.run("chcontext", ["--nonsense", "true"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^chcontext: Unknown option '--nonsense'\.? See 'chcontext --help'\.\n$/);
  });
});

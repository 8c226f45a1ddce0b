// Bad values for every config key, read from a real directory: a value is used as documented or
// the read fails with a ConfigError naming that key's file; never silently ignored. Kinds of bad
// input: empty, 0, negative, huge, binary, control characters, a directory, a FIFO, and links
// inside and outside the config directory (links to regular files are followed, as util-vserver did).

import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { readConfigTree } from "../../src/drivers/config-store";
import { parseGuestConfig, type GuestConfig } from "../../src/pure/config/guest-config";
import { ConfigError } from "../../src/errors";

const base = mkdtempSync("/tmp/vserver-unit-values-");
afterAll(() => rmSync(base, { recursive: true, force: true }));
let n = 0;

type Make = (path: string, cfgDir: string) => void;

function load(key: string, make: Make): { g?: GuestConfig; err?: unknown; file: string } {
  const cfg = `${base}/c${n++}/etc/vservers/g`;
  mkdirSync(cfg, { recursive: true });
  const file = `${cfg}/${key}`;
  mkdirSync(file.slice(0, file.lastIndexOf("/")), { recursive: true });
  make(file, cfg);
  try {
    const g = parseGuestConfig({ name: "g", cfgDir: cfg, guest: readConfigTree(cfg), defaults: new Map(), vdirBase: `${base}/vservers` });
    return { g, file };
  } catch (err) {
    return { err, file };
  }
}

/** Used, or refused naming the file: the one rule for every key and every input. */
/** The message starts with the file's name (and, for a line-oriented file, its line). */
function names(err: unknown, file: string): boolean {
  const m = (err as Error).message;
  return m.startsWith(`${file}:`) || m.startsWith(`${file} line `);
}

function usedOrNamed(r: { g?: GuestConfig; err?: unknown; file: string }): void {
  if (r.err === undefined) return;
  expect(r.err).toBeInstanceOf(ConfigError);
  expect(names(r.err, r.file)).toBe(true);
}

function refusedNaming(r: { g?: GuestConfig; err?: unknown; file: string }, why?: RegExp): void {
  expect(r.err).toBeInstanceOf(ConfigError);
  expect(names(r.err, r.file)).toBe(true);
  if (why) expect((r.err as Error).message).toMatch(why);
}

const text = (s: string | Buffer): Make => (p) => writeFileSync(p, s);

const KEYS = [
  "context", "name", "nice", "bcapabilities", "cflags", "fstab", "shell", "uts/nodename", "uts/domainname",
  "rlimits/nproc", "rlimits/rss", "rlimits/as", "ulimits/nofile", "cgroup/cpu.shares", "spaces/net", "apps/init/style",
  "apps/init/runlevel", "apps/init/killseq", "apps/init/cmd.start", "apps/init/environment", "apps/init/mark",
  "apps/init/depends", "security/seccomp", "security/abstract-sockets", "sched/priority-bias",
];

// Not a regular file: refused for every key that holds a value.
const NOT_A_FILE: Array<[string, Make, RegExp]> = [
  ["a directory", (p) => mkdirSync(p), /is a directory/],
  ["a FIFO", (p) => expect(Bun.spawnSync(["mkfifo", p]).exitCode).toBe(0), /is a FIFO/],
  ["a link to a FIFO", (p) => { Bun.spawnSync(["mkfifo", `${p}.fifo-target`]); symlinkSync(`${p}.fifo-target`, p); }, /FIFO/],
  ["a dangling link", (p) => symlinkSync(`${base}/does-not-exist`, p), /is a link to .*not a regular file/],
  ["binary data", text(Buffer.from([0x31, 0x00, 0x32, 0x0a])), /binary data/],
  ["invalid UTF-8", text(Buffer.from([0x61, 0xff, 0xfe, 0x0a])), /binary data/],
];

describe.each(KEYS)("%s", (key) => {
  for (const [what, make, why] of NOT_A_FILE) {
    test(`as ${what} is refused naming the file`, () => refusedNaming(load(key, make), why));
  }
  for (const [what, value] of [
    ["empty", ""], ["0", "0\n"], ["negative", "-5\n"], ["huge", "99999999999999999999999\n"],
    ["control characters", "a\x01b\x1b[2J\n"], ["a very long line", "x".repeat(5000) + "\n"],
  ] as const) {
    test(`${what}: used or refused naming the file`, () => usedOrNamed(load(key, text(value))));
  }
  test("a link to a good file inside the config directory is followed", () => {
    const good = { context: "40001", "rlimits/nproc": "50", "uts/nodename": "web1" } as Record<string, string>;
    const r = load(key, (p, cfg) => {
      const target = `${cfg}/.target`;
      writeFileSync(target, `${good[key] ?? "1"}\n`);
      symlinkSync(target, p);
    });
    usedOrNamed(r);
    if (key === "context") expect(r.g!.context).toBe(40001);
    if (key === "rlimits/nproc") expect(r.g!.pidsLimit).toBe(50);
    if (key === "uts/nodename") expect(r.g!.nodename).toBe("web1");
  });
  test("a link to a good file outside the config directory is followed", () => {
    const r = load(key, (p) => {
      const target = `${base}/outside-${n}`;
      writeFileSync(target, key === "context" ? "40002\n" : "1\n");
      symlinkSync(target, p);
    });
    usedOrNamed(r);
    if (key === "context") expect(r.g!.context).toBe(40002);
  });
});

describe("values with one meaning", () => {
  test.each(["rlimits/nproc", "rlimits/rss", "rlimits/as"])("%s = 0 is refused, not taken as no limit", (key) => {
    refusedNaming(load(key, text("0\n")), /0 is not a limit here/);
  });
  test.each(["rlimits/nproc", "rlimits/rss"])("%s = -1 is refused (only inf means no limit)", (key) => {
    refusedNaming(load(key, text("-1\n")));
  });
  test("rlimits/nproc above the kernel's PID limit is refused", () => refusedNaming(load("rlimits/nproc", text("4194305\n")), /above the largest/));
  test("rlimits/nproc = inf is no limit", () => expect(load("rlimits/nproc", text("inf\n")).g!.pidsLimit).toBeUndefined());
  test("ulimits/core = 0 is a real limit of 0", () => {
    expect(load("ulimits/core", text("0\n")).g!.ulimits).toEqual([{ type: "RLIMIT_CORE", soft: 0, hard: 0 }]);
  });
  test.each([
    ["uts/nodename", "web\x07\n"], ["uts/nodename", "a b\n"], ["uts/domainname", "ex\x00ample\n"], ["uts/domainname", "caf\xc3\xa9.example\n"],
    ["uts/nodename", "-lead\n"], ["uts/nodename", `${"a".repeat(65)}\n`],
  ])("%s %j is not a host name", (key, value) => {
    refusedNaming(load(key, text(Buffer.from(value, "latin1"))));
  });
  test("a vdir link to / is the root /, not an empty path", () => {
    expect(load("vdir", (p) => symlinkSync("/", p)).g!.vdir).toBe("/");
  });
  test("security/abstract-sockets: refused by default, scoped when asked, anything else named", () => {
    expect(load("nice", text("0\n")).g!.abstractSockets.mode).toBe("refused");
    expect(load("security/abstract-sockets", text("scoped\n")).g!.abstractSockets.mode).toBe("scoped");
    refusedNaming(load("security/abstract-sockets", text("allowed\n")), /not an abstract-socket setting \(refused or scoped\)/);
  });
  test("context 0 and context 1 are refused", () => {
    refusedNaming(load("context", text("0\n")), /below the smallest/);
    refusedNaming(load("context", text("1\n")), /below the smallest/);
  });
});

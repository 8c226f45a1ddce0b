// The legacy /etc/vservers/NAME.conf as a second source of the same settings: how its variables
// map onto the directory layout, what a guest used from it gets, and how its errors and warnings
// name the file and line. Its NAME.sh as the guest's own hooks.

import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { legacyOriginOf, legacyToEntries, readLegacyConf, skippedLineMessage } from "../../src/pure/config/legacy-conf";
import { parseGuestConfig, settingFile, type GuestConfig } from "../../src/pure/config/guest-config";
import { entriesTree, fileTree } from "../../src/pure/config/tree";
import { hookScripts, type HookContext } from "../../src/drivers/hooks";
import { ConfigError } from "../../src/errors";

const CONF = "/etc/vservers/old.conf";

function guestOf(text: string, defaults: Record<string, string> = {}): GuestConfig {
  const m = legacyToEntries(text, CONF);
  expect(m.skipped).toEqual([]);
  return parseGuestConfig({
    name: "old", cfgDir: "/etc/vservers/old", guest: entriesTree(m.entries), defaults: fileTree(defaults), vdirBase: "/vservers",
    legacy: { conf: CONF, script: "/etc/vservers/old.sh", origin: legacyOriginOf(m, CONF) },
  });
}

function errorOf(text: string): string {
  try {
    guestOf(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  return "no error";
}

describe("legacy NAME.conf as data", () => {
  test("quoting as the shell reads it, export, comments; expansion and code are not data", () => {
    const { vars, skipped } = readLegacyConf([
      `S_HOSTNAME="web one"`, `export S_NICE=3`, `S_CAPS='CAP_NET_RAW'  # ping`, `ONBOOT=yes # boot`, `S_DOMAINNAME="a\\"b"`,
      `A="$HOME"`, `B=$(id)`, `C="open`, `D='it''s'`, `case $PROFILE in`, `E=x;rm -rf /`, `F=a#b`,
    ].join("\n"));
    expect(Object.fromEntries([...vars].map(([k, v]) => [k, v.value]))).toEqual({
      S_HOSTNAME: "web one", S_NICE: "3", S_CAPS: "CAP_NET_RAW", ONBOOT: "yes", S_DOMAINNAME: 'a"b', F: "a#b",
    });
    expect(skipped.map((s) => s.line)).toEqual([6, 7, 8, 9, 10, 11]);
  });

  test("the last assignment wins, as when sourced, and keeps its line", () => {
    expect(readLegacyConf("S_NICE=1\nS_NICE=2\n").vars.get("S_NICE")).toEqual({ value: "2", line: 2 });
  });

  test("a line of shell code: one sentence with file, line and the way out", () => {
    const { skipped } = readLegacyConf("S_NICE=1\nif [ -e /x ]; then S_NICE=2; fi\n");
    expect(skippedLineMessage(CONF, skipped[0]!, "old")).toBe(
      `${CONF}:2: 'if [ -e /x ]; then S_NICE=2; fi' is shell code, not a KEY=value setting; it is never run, so the file cannot be used as it is: remove the line, or run 'vserver old convert' and edit the directory it writes.`);
  });
});

describe("a guest used from its NAME.conf", () => {
  test("gets the settings the directory layout would give", () => {
    const g = guestOf(`S_CONTEXT=4242\nS_HOSTNAME=old.example\nS_DOMAINNAME=none\nS_NICE=5\nS_FLAGS="lock nproc"\nS_CAPS="CAP_NET_RAW !CAP_CHOWN"\nULIMIT="-HS -u 300 -n 1000"\nONBOOT=yes\n`);
    expect(g.context).toBe(4242);
    expect(g.nodename).toBe("old.example");
    expect(g.domainname).toBeUndefined();
    expect(g.nice).toBe(5);
    expect([...g.cflags].sort()).toEqual(["lock", "nproc"]);
    expect(g.capabilities).toContain("NET_RAW");
    expect(g.capabilities).not.toContain("CHOWN");
    expect(g.pidsLimit).toBe(300); // nproc flag: -u is the whole guest's limit
    expect(g.ulimits).toEqual([{ type: "RLIMIT_NOFILE", soft: 1000, hard: 1000 }]);
    expect(g.mark).toBe("default");
    expect(g.vdir).toBe("/vservers/old");
    expect(g.initStyle).toBe("sysv");
    expect(g.legacy).toMatchObject({ conf: CONF, script: "/etc/vservers/old.sh" });
    // Messages at start and exec name the line and variable a setting came from.
    expect(settingFile(g, "context")).toBe(`${CONF}:1: S_CONTEXT`);
    expect(settingFile(g, "rlimits/nproc")).toBe(`${CONF}:7: ULIMIT`);
    expect(settingFile(g, "apps/init/style")).toBe(CONF);
  });

  test("fakeinit: the guest's own init is PID 1 (plain); minit: the minit style", () => {
    expect(guestOf(`S_FLAGS="fakeinit"`).initStyle).toBe("plain");
    expect(guestOf(`S_FLAGS="minit lock"`).initStyle).toBe("minit");
  });

  test("ULIMIT: -H, -S or both for every limit given; -u is per process without the nproc flag", () => {
    const g = guestOf(`ULIMIT="-H -n 50 -u 20 -c unlimited"`);
    expect(g.pidsLimit).toBe(4096);
    const by = Object.fromEntries(g.ulimits.map((u) => [u.type, [u.soft, u.hard]]));
    expect(by.RLIMIT_NOFILE![1]).toBe(50);
    expect(by.RLIMIT_NPROC![1]).toBe(20);
    expect(by.RLIMIT_CORE![1]).toBe(Number.MAX_SAFE_INTEGER);
  });

  test(".defaults still fill in what the file does not say", () => {
    expect(guestOf("S_NICE=1\n", { "apps/init/style": "plain\n" }).initStyle).toBe("plain");
  });

  test("a bad value is refused naming the file, its line and the variable", () => {
    expect(errorOf("S_HOSTNAME=ok\nS_CONTEXT=abc\n")).toMatch(/^\/etc\/vservers\/old\.conf:2: S_CONTEXT: /);
    expect(errorOf("S_NICE=99\n")).toMatch(/^\/etc\/vservers\/old\.conf:1: S_NICE: /);
    expect(errorOf("\n\nS_CAPS='CAP_NOPE'\n")).toMatch(/^\/etc\/vservers\/old\.conf:3: S_CAPS: /);
    expect(errorOf("S_HOSTNAME=a.b\nS_FLAGS='lock wat'\n")).toMatch(/^\/etc\/vservers\/old\.conf:2: S_FLAGS: /);
  });

  test("unknown and unsupported variables: one warning each, naming file, line and key", () => {
    const m = legacyToEntries("S_NICE=1\nPRIORITY=10\nFOO=bar\nULIMIT='-HS -u 100 -z 4 -w'\n", CONF);
    expect(m.warnings.map((w) => `${w.file}: ${w.message}`)).toEqual([
      `${CONF}:4: ULIMIT: '-z 4', '-w' not applied (only '-LETTER VALUE' limits, with -H and -S, are read)`,
      `${CONF}:2: PRIORITY: not supported: start order is apps/init/depends here (start-vservers starts guests in that order)`,
      `${CONF}:3: FOO: not supported: not a variable of the legacy config this version knows; it is ignored`,
    ]);
  });

  test("warnings of the settings it maps onto name the variable's line too", () => {
    const g = guestOf("S_HOSTNAME=x\nS_FLAGS='lock virt_mem'\n");
    expect(g.warnings.map((w) => w.file)).toEqual([`${CONF}:2: S_FLAGS`]);
  });
});

describe("NAME.sh as the guest's own hooks", () => {
  const dir = mkdtempSync(`${tmpdir()}/legacy-hooks-`);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(`${dir}/.defaults/scripts`, { recursive: true });
  for (const f of ["initialize", "pre-start", "post-stop"]) writeFileSync(`${dir}/.defaults/scripts/${f}`, "true\n");
  const ctx = (script: string): HookContext => ({ name: "old", cfgDir: dir, defaultsDir: `${dir}/.defaults`, vdir: "/", log: "/dev/null", legacyScript: script });

  test("the four flavours the original called it with; it replaces the .defaults scripts of those", () => {
    writeFileSync(`${dir}/old.sh`, "echo $1\n");
    chmodSync(`${dir}/old.sh`, 0o755);
    for (const f of ["pre-start", "post-start", "pre-stop", "post-stop"] as const) expect(hookScripts(ctx(`${dir}/old.sh`), f)).toEqual([`${dir}/old.sh`]);
    expect(hookScripts(ctx(`${dir}/old.sh`), "initialize")).toEqual([`${dir}/.defaults/scripts/initialize`]);
    expect(hookScripts(ctx(`${dir}/old.sh`), "postpost-stop")).toEqual([]);
  });

  test("without a NAME.sh, the .defaults scripts; never scripts/ beside the legacy files", () => {
    mkdirSync(`${dir}/scripts`, { recursive: true });
    writeFileSync(`${dir}/scripts/pre-start`, "false\n");
    expect(hookScripts(ctx(`${dir}/none.sh`), "pre-start")).toEqual([`${dir}/.defaults/scripts/pre-start`]);
    expect(hookScripts(ctx(`${dir}/none.sh`), "post-start")).toEqual([]);
  });
});

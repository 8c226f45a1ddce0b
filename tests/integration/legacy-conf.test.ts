// A guest defined only by the original's /etc/vservers/NAME.conf, used as it is: read as data by
// every command (never run), its NAME.sh as the hooks, the commands that would write settings
// refusing with the way out, bad input naming the file and line, then `convert` keeping both
// files and `delete` removing them.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { TestHost, busyboxGuest } from "../helpers/host";

const h = new TestHost("legacy");
afterAll(() => h.cleanup());

const hooklog = `${h.root}/hooks.log`;
const conf = `${h.confDir}/old.conf`;
const script = `${h.confDir}/old.sh`;
let context = "";

const CONF = (ctx: string) => `# the original's config of guest 'old'
S_CONTEXT=${ctx}
S_HOSTNAME=old.example
S_NICE=2
S_CAPS="CAP_NET_RAW"
ULIMIT="-HS -n 512"
ONBOOT=yes
PRIORITY=20
`;
const SCRIPT = `#!/bin/sh\necho "$1 $2 $(pwd) $VSERVER_NAME" >> ${hooklog}\n`;

function hookLines(): string[] {
  return existsSync(hooklog) ? readFileSync(hooklog, "utf8").trim().split("\n") : [];
}

/** CapBnd of a process in the guest has CAP_NET_RAW (13). */
function hasNetRaw(status: string): boolean {
  const hex = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  return hex !== undefined && (BigInt(`0x${hex}`) & (1n << 13n)) !== 0n;
}

describe("a guest with only NAME.conf and NAME.sh", () => {
  beforeAll(() => {
    // A busybox root from the ordinary build; then its directory gives way to the legacy files.
    busyboxGuest(h, "old");
    context = readFileSync(`${h.cfg("old")}/context`, "utf8").trim();
    rmSync(h.cfg("old"), { recursive: true });
    writeFileSync(conf, CONF(context));
    writeFileSync(script, SCRIPT, { mode: 0o755 });
  });

  test("--list shows it", () => {
    expect(h.ok("--list").stdout).toMatch(new RegExp(`^old\\s+${context}\\s+stopped\\s+sysv\\s+`, "m"));
  });

  test("start reads NAME.conf; an unsupported variable is one warning naming file, line and key", () => {
    const r = h.ok("old", "start");
    expect(r.stderr).toContain(`${conf}:8: PRIORITY: not supported: start order is apps/init/depends here`);
    expect(r.stderr.split("\n").filter((l) => l.includes("PRIORITY"))).toHaveLength(1);
    expect(existsSync(h.cfg("old"))).toBe(false);
    expect(readFileSync(conf, "utf8")).toBe(CONF(context));
  });

  test("exec sees the settings it gave: hostname, ulimit, nice, capability", () => {
    expect(h.inGuest("old", "hostname").stdout.trim()).toBe("old.example");
    expect(h.inGuest("old", "sh", "-c", "ulimit -n").stdout.trim()).toBe("512");
    const stat = h.inGuest("old", "cat", "/proc/self/stat").stdout;
    expect(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]).toBe("2");
    expect(hasNetRaw(h.inGuest("old", "cat", "/proc/self/status").stdout)).toBe(true);
  });

  test("status, vserver-stat and start-vservers --status show it (ONBOOT=yes is the default mark)", () => {
    const s = h.vserver("old", "status");
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(new RegExp(`Vserver 'old' is running at context '${context}'`));
    expect(h.run("vserver-stat", []).stdout).toMatch(new RegExp(`^${context}\\s.*\\sold$`, "m"));
    expect(h.run("start-vservers", ["--status"]).stdout).toMatch(new RegExp(`^old\\s+${context}\\s+running\\s+default\\s`, "m"));
    expect(h.run("vserver-info", ["old", "CONTEXT"]).stdout.trim()).toBe(context);
    // It has no config directory for a script to write into.
    expect(h.run("vserver-info", ["old", "CFGDIR"])).toMatchObject({ code: 1, stdout: "" });
  });

  test("a setting a command would save is refused with the way out, and nothing is written", () => {
    for (const [cmd, args] of [["vlimit", ["--xid", "old", "--nofile", "400", "--save"]], ["vuname", ["-s", "--xid", "old", "-t", "nodename=x", "--save"]], ["vattribute", ["--xid", "old", "--set", "--flag", "lock"]]] as const) {
      const r = h.run(cmd, [...args]);
      expect(`${cmd} ${r.code}`).toBe(`${cmd} 1`);
      expect(r.stderr).toContain(`guest 'old' is configured by the legacy file ${conf}, which is never rewritten; run 'vserver old convert' first.`);
    }
    expect(existsSync(h.cfg("old"))).toBe(false);
    expect(readFileSync(conf, "utf8")).toBe(CONF(context));
    expect(h.inGuest("old", "sh", "-c", "ulimit -n; hostname").stdout).toBe("512\nold.example\n");
  });

  test("stop; NAME.sh ran as the pre-start, post-start, pre-stop and post-stop hooks, in order, in the guest root", () => {
    h.ok("old", "stop");
    expect(h.vserver("old", "running").code).toBe(1);
    const vdir = h.vdir("old");
    expect(hookLines()).toEqual([`pre-start old ${vdir} old`, `post-start old ${vdir} old`, `pre-stop old ${vdir} old`, `post-stop old ${vdir} old`]);
    expect(h.leftovers()).toEqual([]);
  });

  test("a failing NAME.sh fails start as a scripts/ hook does, and leaves nothing running", () => {
    writeFileSync(script, `#!/bin/sh\n[ "$1" = pre-start ] && { echo 'database not ready' >&2; exit 3; }\nexit 0\n`, { mode: 0o755 });
    try {
      const r = h.vserver("old", "start");
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(`pre-start hook ${script} failed \\(exit status 3\\): database not ready`));
      expect(h.vserver("old", "running").code).toBe(1);
      expect(h.leftovers()).toEqual([]);
    } finally {
      writeFileSync(script, SCRIPT, { mode: 0o755 });
    }
  });

  test("a non-executable NAME.sh runs with /bin/sh, as a scripts/ hook does", () => {
    rmSync(hooklog, { force: true });
    writeFileSync(script, SCRIPT, { mode: 0o644 });
    try {
      h.ok("old", "start");
      h.ok("old", "stop");
      expect(hookLines().map((l) => l.split(" ")[0])).toEqual(["pre-start", "post-start", "pre-stop", "post-stop"]);
    } finally {
      writeFileSync(script, SCRIPT, { mode: 0o755 });
    }
  });

  test("shell code in NAME.conf is never run: the command fails naming the file and line, and makes nothing", () => {
    const marker = `${h.root}/pwned`;
    const bad = `${h.confDir}/bad.conf`;
    try {
      writeFileSync(bad, `S_HOSTNAME=bad\nS_NICE=$(touch ${marker})\n`);
      for (const args of [["start"], ["exec", "true"], ["status"]]) {
        const r = h.vserver("bad", ...args);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toBe(`vserver: ${bad}:2: 'S_NICE=$(touch ${marker})' is shell code, not a KEY=value setting; it is never run, so the file cannot be used as it is: remove the line, or run 'vserver bad convert' and edit the directory it writes.\n`);
      }
      writeFileSync(bad, `S_HOSTNAME=bad\n\nIPROOT="192.0.2.300"\n`);
      const r = h.vserver("bad", "start");
      expect(r.stderr).toMatch(new RegExp(`^vserver: ${bad}:3: IPROOT: `));
      expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
      writeFileSync(bad, "S_HOSTNAME=bad\r\n");
      expect(h.vserver("bad", "start").stderr).toBe(`vserver: ${bad}: has DOS line endings (\\r\\n); convert it with dos2unix.\n`);
      expect(existsSync(marker)).toBe(false);
      expect(existsSync(h.cfg("bad"))).toBe(false);
      expect(existsSync(`${h.runDir}/bad`)).toBe(false);
      expect(existsSync(`${h.runDir}/.bundles/bad`)).toBe(false);
      expect(h.leftovers()).toEqual([]);
    } finally {
      rmSync(bad, { force: true });
    }
  });

  test("convert afterwards: a directory with the same settings, both legacy files kept, NAME.sh still the hooks", () => {
    rmSync(hooklog, { force: true });
    const r = h.ok("old", "convert");
    expect(r.stderr).toContain(`${conf}:8: PRIORITY: not supported`);
    expect(r.stderr).toContain(`pre-start, post-start, pre-stop and post-stop link to ${script}`);
    expect(readFileSync(conf, "utf8")).toBe(CONF(context));
    expect(readFileSync(script, "utf8")).toBe(SCRIPT);
    expect(readFileSync(`${h.cfg("old")}/context`, "utf8")).toBe(`${context}\n`);
    expect(readFileSync(`${h.cfg("old")}/uts/nodename`, "utf8")).toBe("old.example\n");
    expect(readlinkSync(`${h.cfg("old")}/scripts/pre-start`)).toBe("../../old.sh");
    h.ok("old", "start");
    expect(h.inGuest("old", "sh", "-c", "ulimit -n; hostname").stdout).toBe("512\nold.example\n");
    // Settings are saved now, into the directory.
    expect(h.run("vlimit", ["--xid", "old", "--nofile", "400", "--save"]).code).toBe(0);
    expect(readFileSync(`${h.cfg("old")}/ulimits/nofile`, "utf8")).toBe("400\n");
    h.ok("old", "stop");
    const vdir = h.vdir("old");
    expect(hookLines()).toEqual([`pre-start old ${vdir} old`, `post-start old ${vdir} old`, `pre-stop old ${vdir} old`, `post-stop old ${vdir} old`]);
  });

  test("delete removes the guest with its directory and both legacy files", () => {
    h.ok("old", "delete", "--force");
    for (const p of [h.cfg("old"), conf, script, h.vdir("old")]) expect(existsSync(p)).toBe(false);
    expect(h.ok("--list").stdout).not.toMatch(/^old\s/m);
  });
});

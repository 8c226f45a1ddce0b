// Package tools across guests: vapt-get, vrpm, vyum and vsomething run the guests' own tool
// inside each guest (a fake apt-get script here, which says where it ran), labelled per guest,
// several at a time, with a summary and an exit status that says whether any guest failed.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { TestHost, busyboxGuest } from "../helpers/host";

let h: TestHost;

/** A fake tool: prints where it runs (the guest's hostname) and its arguments, logs them, fails on 'fail'. */
const FAKE = (tool: string) => `#!/bin/sh
echo "$(hostname) ${tool} $*"
echo "$*" >> /${tool}.log
[ "$1" = fail ] && { echo "${tool}: asked to fail" >&2; exit 3; }
exit 0
`;

function plant(guest: string, tool: string): void {
  const p = `${h.vdir(guest)}/usr/bin/${tool}`;
  writeFileSync(p, FAKE(tool));
  chmodSync(p, 0o755);
}

function toolLog(guest: string, tool: string): string {
  try {
    return readFileSync(`${h.vdir(guest)}/${tool}.log`, "utf8");
  } catch {
    return "";
  }
}

beforeAll(() => {
  h = new TestHost("packages");
  // g1, g2: apt-get, marked 'web'; g3: running, no apt-get; g4: stopped.
  for (const g of ["g1", "g2", "g3", "g4"]) busyboxGuest(h, g, g === "g1" || g === "g2" ? { "apps/init/mark": "web\n" } : {});
  plant("g1", "apt-get");
  plant("g2", "apt-get");
  plant("g2", "rpm");
  for (const g of ["g1", "g2", "g3"]) h.ok(g, "start");
});

afterAll(() => {
  h.cleanup();
});

describe("vapt-get and friends", () => {
  test("named guests: each runs its own tool inside itself, output labelled, summary, exit 0", () => {
    const r = h.run("vapt-get", ["g1", "g2", "--", "install", "-y", "foo"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toContain("g1: g1 apt-get install -y foo");
    expect(lines).toContain("g2: g2 apt-get install -y foo");
    expect(lines).toContain("g1: ok");
    expect(lines).toContain("g2: ok");
    expect(lines.at(-1)).toBe("vapt-get: 2 ok, 0 failed");
    expect(toolLog("g1", "apt-get")).toContain("install -y foo");
  });

  test("a failing guest and a guest without the tool: one clear line each, exit 1", () => {
    const r = h.run("vapt-get", ["g1", "g3", "--", "fail"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("g1: apt-get: asked to fail");
    expect(r.stderr).toContain("g1: failed (exit status 3)");
    expect(r.stderr).toContain("g3: failed (apt-get: no such program in this guest)");
    expect(r.stderr).not.toContain("executable file");
    expect(r.stdout.trim().split("\n").at(-1)).toBe("vapt-get: 0 ok, 2 failed (g1 g3)");
  });

  test("--all, ALL, --running and --marked choose the guests; stopped guests of a set are skipped", () => {
    const all = h.run("vapt-get", ["--all", "-j", "4", "--", "update"]);
    expect(all.code).toBe(1); // g3 has no apt-get
    expect(all.stdout).toContain("g4: skipped (not running)");
    expect(all.stdout.trim().split("\n").at(-1)).toBe("vapt-get: 2 ok, 1 failed (g3), 1 skipped (not running)");
    const ALL = h.run("vapt-get", ["ALL", "--", "update"]);
    expect(ALL.stdout.trim().split("\n").at(-1)).toBe(all.stdout.trim().split("\n").at(-1)!);
    const running = h.run("vapt-get", ["--running", "--", "update"]);
    expect(running.stdout).not.toContain("g4");
    expect(running.code).toBe(1);
    const web = h.run("vapt-get", ["--marked", "web", "--", "update"]);
    expect(web.code).toBe(0);
    expect(web.stdout.trim().split("\n").at(-1)).toBe("vapt-get: 2 ok, 0 failed");
    // A stopped guest named on its own is a failure, not a skip.
    const named = h.run("vapt-get", ["g4", "--", "update"]);
    expect(named.code).toBe(1);
    expect(named.stderr).toContain("g4: failed (not running)");
  });

  test("-j runs guests in parallel", () => {
    const t0 = Date.now();
    const r = h.run("vsomething", ["-j", "3", "sleep", "g1", "g2", "g3", "--", "1"]);
    const took = Date.now() - t0;
    expect(r.code).toBe(0);
    expect(took).toBeLessThan(2500);
    const t1 = Date.now();
    expect(h.run("vsomething", ["-q", "sleep", "g1", "g2", "--", "1"]).code).toBe(0);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(2000);
  });

  test("vrpm and vsomething are the same plumbing; bad arguments get one sentence", () => {
    const rpm = h.run("vrpm", ["g2", "--", "-q", "bash"]);
    expect(rpm.code).toBe(0);
    expect(rpm.stdout).toContain("g2: g2 rpm -q bash");
    const some = h.run("vsomething", ["cat", "g1", "--", "/etc/hostname"]);
    expect(some.stdout).toContain("g1: g1");
    const noGuest = h.run("vapt-get", ["nosuch", "--", "update"]);
    expect(noGuest.code).toBe(1);
    expect(noGuest.stderr.trim().split("\n")).toHaveLength(1);
    expect(noGuest.stderr).toContain("nosuch");
    const both = h.run("vapt-get", ["g1", "--all", "--", "update"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("say which guests");
    expect(h.run("vapt-get", ["-j", "0", "g1", "--", "update"]).code).toBe(2);
  });
});

describe("vserver NAME apt-get|rpm|pkg", () => {
  test("one guest: the tool's own output, its exit status; a missing tool is one sentence", () => {
    const r = h.vserver("g1", "apt-get", "install", "-y", "bar");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("g1 apt-get install -y bar\n");
    expect(h.vserver("g1", "apt-get", "fail").code).toBe(3);
    const none = h.vserver("g3", "apt-get", "update");
    expect(none.code).toBe(1);
    expect(none.stderr.trim()).toMatch(/^vserver: guest 'g3' has no apt-get \(looked in .*\/usr\/bin.*\)\.$/);
    expect(h.vserver("g2", "rpm", "-qa").stdout).toBe("g2 rpm -qa\n");
  });

  test("pkg install uses whichever package tool the guest has", () => {
    const r = h.vserver("g2", "pkg", "install", "nginx", "curl");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("g2 apt-get install -y nginx curl\n");
    const none = h.vserver("g3", "pkg", "install", "nginx");
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("has none of the package tools apt-get, dnf, yum, apk, zypper");
    expect(h.vserver("g2", "pkg", "install", "-rf").code).toBe(2);
  });
});

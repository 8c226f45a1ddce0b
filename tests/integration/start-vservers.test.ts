// start-vservers on real guests: marks select, apps/init/depends orders start and stop (seen in
// the journal), a failing guest skips only its dependents, and a bad depends file changes nothing.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { TestHost, busyboxGuest } from "../helpers/host";

const h = new TestHost("boot");
afterAll(() => h.cleanup());

const sv = (...args: string[]) => h.run("start-vservers", args, { timeout: 120 });
const running = (n: string) => h.vserver(n, "running").code === 0;
/** The guests' own start/stop events, in journal order, from line `from` on. */
const events = (op: string, from: number) => readFileSync(`${h.logDir}/events.log`, "utf8").trim().split("\n").slice(from)
  .map((l) => JSON.parse(l)).filter((e) => e.op === op && e.ok).map((e) => e.guest as string);
const journalLength = () => readFileSync(`${h.logDir}/events.log`, "utf8").trim().split("\n").length;

function setInit(name: string, file: "mark" | "depends", content: string | undefined) {
  const p = `${h.cfg(name)}/apps/init/${file}`;
  if (content === undefined) return rmSync(p, { force: true });
  mkdirSync(`${h.cfg(name)}/apps/init`, { recursive: true });
  writeFileSync(p, content);
}

describe("start-vservers", () => {
  beforeAll(() => {
    for (const n of ["db", "web", "app", "other"]) busyboxGuest(h, n);
    for (const n of ["db", "web", "app"]) setInit(n, "mark", "default\n");
    setInit("web", "depends", "db\n");
    setInit("app", "depends", "web db\n");
  });

  test("--test prints the waves and does nothing", () => {
    const r = sv("--marked", "--test");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("start wave 1: db\nstart wave 2: web\nstart wave 3: app\n");
    expect(["db", "web", "app"].some(running)).toBe(false);
  });

  test("--marked starts the default mark in depends order; stop goes the other way", () => {
    const from = journalLength();
    const r = sv("--marked", "-j", "3");
    expect(r.stdout).toBe("db: started\nweb: started\napp: started\n");
    expect(r.code).toBe(0);
    expect(events("start", from)).toEqual(["db", "web", "app"]);
    expect(running("other")).toBe(false);

    const again = sv("--marked");
    expect(again.stdout).toContain("db: skipped: already running");

    const from2 = journalLength();
    const s = sv("--running", "--stop", "-j", "3");
    expect(s.code).toBe(0);
    expect(events("stop", from2)).toEqual(["app", "web", "db"]);
    expect(["db", "web", "app"].some(running)).toBe(false);
  });

  test("a guest that fails to start skips only the guests that depend on it", () => {
    const rc = `${h.vdir("web")}/etc/init.d/rc`;
    const original = readFileSync(rc, "utf8");
    writeFileSync(rc, "#!/bin/sh\nexit 4\n");
    try {
      const r = sv("db", "web", "app", "other", "-j", "2");
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("web: failed: the guest's start command '/etc/init.d/rc 3' failed with exit status 4");
      expect(r.stdout).toContain("app: skipped: it depends on 'web', which is not running");
      expect(running("db")).toBe(true);
      expect(running("other")).toBe(true);
      expect(running("app")).toBe(false);
    } finally {
      writeFileSync(rc, original);
    }
    expect(sv("--all", "--stop").code).toBe(0);
  });

  test("a circle or an unknown guest in depends is reported with its file, and nothing starts", () => {
    setInit("db", "depends", "app\n");
    const r = sv("--marked");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${h.confDir}/(db|web|app)/apps/init/depends: the guests depend on each other in a circle \\((\\w+ -> ){3}\\w+\\)`));
    setInit("db", "depends", "nosuch\n");
    expect(sv("--all").stderr).toContain(`${h.cfg("db")}/apps/init/depends: guest 'nosuch' does not exist.`);
    expect(["db", "web", "app", "other"].some(running)).toBe(false);
    setInit("db", "depends", undefined);
  });

  test("argument errors", () => {
    expect(sv().stderr).toContain("say which guests");
    expect(sv("--all", "db").code).toBe(2);
    expect(sv("--all", "-j", "0").stderr).toContain("-j: '0' is not a number from 1 to 64.");
    expect(sv("--start", "--stop", "--all").stderr).toContain("exclude each other");
    expect(sv("--all", "-m", "x").stderr).toContain("-m MARK goes with --marked.");
    expect(sv("ghost").stderr).toContain("no guest named 'ghost'.");
    expect(sv("--status", "--all").stderr).toContain("--status shows every guest");
    expect(sv("--all", "--json").stderr).toContain("--json goes with --status.");
  });

  test("--status shows every guest at once: context, state, mark, processes, uptime", () => {
    h.ok("db", "start");
    try {
      const r = sv("--status");
      expect(r.code).toBe(0);
      const rows = r.stdout.trim().split("\n").map((l) => l.split(/\s+/));
      expect(rows[0]).toEqual(["NAME", "CTX", "STATE", "MARK", "PROCS", "UPTIME"]);
      const byName = new Map(rows.slice(1).map((c) => [c[0], c]));
      expect([...byName.keys()].sort()).toEqual(["app", "db", "other", "web"]);
      expect(byName.get("db")!.slice(2, 4)).toEqual(["running", "default"]);
      expect(Number(byName.get("db")![4])).toBeGreaterThan(0);
      expect(byName.get("other")!.slice(2, 6)).toEqual(["stopped", "-", "-", "-"]);
      const json = JSON.parse(sv("--status", "--json").stdout) as Array<{ name: string; running: boolean; mark?: string }>;
      expect(json.find((g) => g.name === "db")).toMatchObject({ running: true, mark: "default" });
    } finally {
      h.ok("db", "stop");
    }
  });
});

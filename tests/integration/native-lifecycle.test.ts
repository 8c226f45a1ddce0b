// `vserver NAME start` and `stop` replayed natively from the start plan (src/native/native-start.c, native-stop.c):
// only while the config is what the TypeScript start saw, with the same records, journal lines and
// guest as the TypeScript path, its failures reported and cleaned up as start's own, and every case
// it must not serve handed over. VSERVER_NATIVE=require makes a hand-over exit 125.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { TestHost } from "../helpers/host";
import { busyboxGuest } from "../helpers/host";

const h = new TestHost("nlife");
afterAll(() => h.cleanup());
const A = "nl1";
const KEEP = "nlkeep"; // keeps the runtime's view alive, as on a host with other guests

const native = { env: { VSERVER_NATIVE: "require" } };
const plan = () => `${h.runDir}/.plans/${A}`;
const runRecord = () => JSON.parse(readFileSync(`${h.runDir}/${A}`, "utf8"));
const execRecord = () => readFileSync(`${h.runDir}/.exec/${A}`, "utf8");
const journal = () => readFileSync(`${h.logDir}/events.log`, "utf8").trim().split("\n").map((l) => JSON.parse(l));

function nothingLeftOf(name: string, context: number): string[] {
  const left: string[] = [];
  for (const p of [`${h.runDir}/${name}`, `${h.runDir}/.exec/${name}`, `${h.runDir}/.bundles/${name}`, `${h.runDir}/.runtime/crun/${name}`]) {
    if (existsSync(p)) left.push(p);
  }
  for (const hier of ["pids", "memory", "cpu"]) {
    const d = `/sys/fs/cgroup/${hier}/${h.cgroupParent}/${context}`;
    if (existsSync(d)) left.push(d);
  }
  return left;
}

describe("native start and stop", () => {
  let context = 0;
  beforeAll(() => {
    busyboxGuest(h, KEEP);
    busyboxGuest(h, A);
    h.ok(KEEP, "start");
    // a stop script in the guest leaves a mark, so we can see the stop command ran inside it
    const k = `${h.vdir(A)}/etc/rc6.d/K10mark`;
    writeFileSync(k, "#!/bin/sh\necho \"stopped by rc 6 ($1)\" > /stop-mark\n");
    chmodSync(k, 0o755);
  });

  test("without a plan, start goes to TypeScript, which records one; then both are native", () => {
    expect(h.run("vserver", [A, "start"], native).code).toBe(125);
    h.ok(A, "start");
    expect(existsSync(plan())).toBe(true);
    const tsRun = runRecord();
    const tsExec = execRecord();
    context = tsRun.context;

    const stop = h.run("vserver", [A, "stop"], native);
    expect(stop.code).toBe(0);
    expect(readFileSync(`${h.vdir(A)}/stop-mark`, "utf8")).toBe("stopped by rc 6 (stop)\n");
    expect(nothingLeftOf(A, context)).toEqual([]);

    const start = h.run("vserver", [A, "start"], native);
    expect(start.code).toBe(0);
    expect(start.stdout).toBe(`guest '${A}' started at context ${context}\n`);
    // the same records as the TypeScript start wrote, but for PID 1's identity and the time
    const run = runRecord();
    const blank = (r: Record<string, unknown>) => ({ ...r, pid: 0, pidStart: "", startedAt: 0 });
    expect(blank(run)).toEqual(blank(tsRun));
    expect(run.pid).not.toBe(tsRun.pid);
    expect(Date.now() - run.startedAt).toBeLessThan(60_000);
    const blankExec = (t: string) => t.replace(/^pid .*$/m, "pid").replace(/^pid-start .*$/m, "pid-start");
    expect(blankExec(execRecord())).toBe(blankExec(tsExec));
    expect(execRecord()).toContain(`pid ${run.pid}\n`);
    // a real guest: our init is PID 1 and its start command ran
    expect(h.inGuest(A, "cat", "/proc/1/comm").stdout.trim()).toBe(".vserver-init");
    expect(h.vserver(A, "running").code).toBe(0);
    const ev = journal().filter((e) => e.op === "start").at(-1)!;
    expect(ev).toMatchObject({ op: "start", guest: A, ok: true, context, pid: run.pid });
  });

  test("the internal hand-over of a failed native start is refused to anyone not holding the lock", () => {
    const r = h.vserver(A, "start", "--native-abort", "runtime", "forged");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--native-abort'");
    expect(h.vserver(A, "running").code).toBe(0);
  });

  test("the guest cannot make its init run the stop command: signals from inside are ignored, forged ones too", () => {
    // kill(1, SIGPWR) from guest root, and a sigqueue that forges the host's sender PID 0
    const src = `${h.root}/forge.c`;
    writeFileSync(src, `#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "kill") == 0) return kill(1, SIGPWR) == 0 ? 0 : 1;
  siginfo_t si; memset(&si, 0, sizeof si);
  si.si_signo = SIGPWR; si.si_code = SI_QUEUE; si.si_pid = 0; si.si_uid = 0;
  return syscall(SYS_rt_sigqueueinfo, 1, SIGPWR, &si) == 0 ? 0 : 1;
}
`);
    const cc = Bun.spawnSync(["gcc", "-static", "-O1", "-o", `${h.vdir(A)}/forge`, src], { stderr: "pipe" });
    expect(cc.stderr.toString()).toBe("");
    rmSync(`${h.vdir(A)}/stop-mark`, { force: true });
    // both signals are delivered (the init blocks them all), so only the init's own check stops
    // them; one at a time, since a second SIGPWR still pending would be merged into the first
    for (const how of ["kill", "queue"]) {
      expect(h.inGuest(A, "/forge", how).code).toBe(0);
      Bun.sleepSync(300);
      expect(h.inGuest(A, "cat", "/proc/1/comm").stdout.trim()).toBe(".vserver-init");
      expect(existsSync(`${h.vdir(A)}/stop-mark`)).toBe(false);
    }
    rmSync(`${h.vdir(A)}/forge`);
  });

  test("a changed config sends start and stop to TypeScript until it has recorded a new plan", () => {
    h.ok(A, "stop");
    writeFileSync(`${h.cfg(A)}/uts/nodename`, "renamed\n");
    expect(h.run("vserver", [A, "start"], native).code).toBe(125);
    h.ok(A, "start");
    expect(h.inGuest(A, "hostname").stdout.trim()).toBe("renamed");
    // the plan now matches: stop is native again
    expect(h.run("vserver", [A, "stop"], native).code).toBe(0);
    // a stop with a config edited while the guest runs goes to TypeScript (the kill sequence may have changed)
    expect(h.run("vserver", [A, "start"], native).code).toBe(0);
    writeFileSync(`${h.cfg(A)}/killseq-note`, "x\n");
    expect(h.run("vserver", [A, "stop"], native).code).toBe(125);
    h.ok(A, "stop");
    rmSync(`${h.cfg(A)}/killseq-note`);
  });

  test("a guest with hook scripts has no plan: its hooks always run", () => {
    mkdirSync(`${h.cfg(A)}/scripts`, { recursive: true });
    writeFileSync(`${h.cfg(A)}/scripts/pre-start`, `#!/bin/sh\necho hook >> ${h.root}/hook-ran\n`, { mode: 0o755 });
    h.ok(A, "start");
    expect(existsSync(plan())).toBe(false);
    h.ok(A, "stop");
    expect(h.run("vserver", [A, "start"], native).code).toBe(125);
    expect(readFileSync(`${h.root}/hook-ran`, "utf8")).toBe("hook\n");
    rmSync(`${h.cfg(A)}/scripts`, { recursive: true });
  });

  test("a failing start command: start's own error, journalled, and nothing left", () => {
    h.ok(A, "start"); // records the plan for the config without hooks
    h.ok(A, "stop");
    const rc = `${h.vdir(A)}/etc/init.d/rc`;
    const original = readFileSync(rc, "utf8");
    writeFileSync(rc, "#!/bin/sh\nexit 3\n");
    try {
      const r = h.run("vserver", [A, "start"], native);
      expect(r.code).not.toBe(0);
      expect(r.code).not.toBe(125);
      expect(r.stderr).toContain(`the guest's start command '/etc/init.d/rc 3' failed with exit status 3`);
      expect(nothingLeftOf(A, context)).toEqual([]);
      expect(existsSync(`${h.runDir}/.locks/${A}.lock`)).toBe(false);
      const ev = journal().at(-1)!;
      expect(ev).toMatchObject({ op: "start", guest: A, ok: false });
      expect(String(ev.error)).toContain("exit status 3");
    } finally {
      writeFileSync(rc, original);
    }
    expect(h.run("vserver", [A, "start"], native).code).toBe(0);
    h.ok(A, "stop");
  });

  test("a guest whose root is gone is TypeScript's to report", () => {
    const moved = `${h.vdir(A)}.away`;
    Bun.spawnSync(["mv", h.vdir(A), moved]);
    try {
      expect(h.run("vserver", [A, "start"], native).code).toBe(125);
      const r = h.vserver(A, "start");
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("does not exist; build the guest first");
    } finally {
      Bun.spawnSync(["mv", moved, h.vdir(A)]);
    }
  });

  test("a missing log directory is TypeScript's to make", () => {
    rmSync(h.logDir, { recursive: true, force: true });
    expect(h.run("vserver", [A, "start"], native).code).toBe(125);
    h.ok(A, "start");
    expect(existsSync(`${h.logDir}/${A}.log`)).toBe(true);
    h.ok(A, "stop");
  });

  test("the last guest's stop goes to TypeScript, which releases the runtime's view", () => {
    expect(h.run("vserver", [A, "start"], native).code).toBe(0);
    expect(h.run("vserver", [A, "stop"], native).code).toBe(0);
    expect(h.run("vserver", [KEEP, "stop"], native).code).toBe(125);
    h.ok(KEEP, "stop");
    const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(h.root));
    expect(mounts).toEqual([]);
    // and with no view, start is TypeScript's too (it makes the view)
    expect(h.run("vserver", [A, "start"], native).code).toBe(125);
  });
});

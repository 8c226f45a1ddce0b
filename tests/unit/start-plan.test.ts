import { describe, expect, test } from "bun:test";
import { fillPlaceholders, formatStartPlan, PLACEHOLDER, type StartPlan } from "../../src/pure/start-plan";
import { formatExecRecord } from "../../src/pure/exec-record";
import { guestInitArgv, GUEST_INIT_PATH, parseStartReport } from "../../src/pure/guest-init";

const base: StartPlan = {
  fingerprint: "0123456789abcdef", context: 40000, log: "/l/g.log", lockDir: "/r/.locks", runtimeStateDir: "/r/.runtime/crun",
  vdir: "/vservers/g", bundle: "/r/.bundles/g", config: "/r/.plans/g.json", nice: 0, runArgv: ["/usr/bin/crun", "run", "g"],
  deleteArgv: ["/usr/bin/crun", "delete", "--force", "g"], guestInit: true, procs: "/sys/fs/cgroup/pids/v/40000/cgroup.procs",
  cgroupDirs: ["/sys/fs/cgroup/pids/v/40000"], cgroupParents: ["/sys/fs/cgroup/pids/v"], kill: [{ signal: 15, wait: 5 }, { signal: 9, wait: 2 }],
  stopTimeout: 30, runRecord: `{"pid":${PLACEHOLDER.pid}}`, execRecord: "version 1\npid @PID@\n",
};

describe("start plan", () => {
  test("one line per value, lists repeated, records prefixed", () => {
    const t = formatStartPlan(base)!;
    expect(t).toContain("\nrun-arg /usr/bin/crun\nrun-arg run\nrun-arg g\n");
    expect(t).toContain("\nkill 15 5\nkill 9 2\n");
    expect(t).toContain("\nexec-record version 1\nexec-record pid @PID@\n");
    expect(t).not.toContain("\nview ");
  });

  test("a value with a newline means no plan (the TypeScript path always works)", () => {
    expect(formatStartPlan({ ...base, vdir: "/a\nb" })).toBeUndefined();
    expect(formatStartPlan({ ...base, runArgv: ["/usr/bin/crun", "x\ny"] })).toBeUndefined();
  });

  test("filled placeholders give the records the TypeScript start writes", () => {
    const rec = { context: 1, pid: 4242, pidStart: "987", private: false, nice: 0, argv: ["/usr/bin/crun", "exec", "g"], guestInit: true };
    const tpl = formatExecRecord({ ...rec, pid: 0, pidStart: PLACEHOLDER.pidStart })!.replace(/^pid 0$/m, `pid ${PLACEHOLDER.pid}`);
    expect(fillPlaceholders(tpl, { pid: 4242, pidStart: "987", startedAt: 5 })).toBe(formatExecRecord(rec)!);
    const run = { name: "g", pid: 4242, pidStart: "987", startedAt: 1700000000000 };
    const runTpl = JSON.stringify({ ...run, pid: PLACEHOLDER.pid, pidStart: PLACEHOLDER.pidStart, startedAt: PLACEHOLDER.startedAt })
      .replace(`"${PLACEHOLDER.pid}"`, PLACEHOLDER.pid).replace(`"${PLACEHOLDER.startedAt}"`, PLACEHOLDER.startedAt);
    expect(fillPlaceholders(runTpl, run)).toBe(JSON.stringify(run));
  });
});

describe("guest init protocol", () => {
  test("argv: counted candidate groups", () => {
    expect(guestInitArgv([["/etc/init.d/rc", "3"], ["/etc/rc.d/rc", "3"]], [["/sbin/halt"]])).toEqual(
      [GUEST_INIT_PATH, "start", "2", "/etc/init.d/rc", "3", "start", "2", "/etc/rc.d/rc", "3", "stop", "1", "/sbin/halt"]);
  });

  test("the start report is parsed strictly: the guest may write anything", () => {
    expect(parseStartReport("start 0 0\n")).toEqual({ index: 0, status: 0 });
    expect(parseStartReport("start -1 127\n")).toEqual({ index: -1, status: 127 });
    expect(parseStartReport("start 1 3\nmore")).toEqual({ index: 1, status: 3 });
    for (const bad of ["", "start 0 0", "start 0 999\n", "start 99 0\n", "hello\n", "start x 0\n"]) expect(parseStartReport(bad)).toBeUndefined();
  });
});

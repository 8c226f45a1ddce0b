// Fault injection: every operation killed (SIGKILL) or failed as on a full disk (ENOSPC) at each
// of its named steps (VSERVER_FAULT, src/drivers/fault.ts), then the next commands must find the
// guest usable (start, exec, stop, delete all work) and nothing of it leaked: no mounts, cgroups,
// containers, run files, bundles, locks or processes. Through the host service the point is in the
// worker that runs the command (it takes the caller's environment), as in a direct run.

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { TestHost, busyboxGuest, BIN, type CmdResult } from "../helpers/host";

const h = new TestHost("faults");
afterAll(() => h.cleanup());

function withFault(point: string, action: string, ...args: string[]): CmdResult {
  return h.run("vserver", args, { env: { VSERVER_FAULT: `${point}:${action}` } });
}

function vs(...args: string[]): CmdResult {
  return h.run("vserver", args);
}

/** Everything this root still holds of guest `name` on the host, besides its config and root. */
function leaks(name: string): string[] {
  const out = h.leftovers();
  for (const f of [`${h.runDir}/${name}`, `${h.runDir}/.exec/${name}`, `${h.runDir}/.bundles/${name}`]) if (existsSync(f)) out.push(f);
  try {
    for (const l of readdirSync(`${h.runDir}/.locks`)) out.push(`lock ${l}`);
  } catch {}
  return out;
}

function running(name: string): boolean {
  return vs(name, "running").code === 0;
}

/** The guest works from here: start (it may already run), exec, stop, and nothing is left. */
function usable(name: string): void {
  // A command killed after the start was complete leaves a running guest: then (and only then)
  // start may answer "already running".
  const before = vs(name, "status").stdout;
  const s = vs(name, "start");
  if (/is stopped/.test(before)) expect(s.stderr).not.toMatch(/already running/);
  expect(s.code).toBe(0);
  expect(vs(name, "status").stdout).toMatch(/is running/);
  const e = vs(name, "exec", "echo", "inside");
  expect(e.stdout).toBe("inside\n");
  expect(vs(name, "stop").code).toBe(0);
  expect(running(name)).toBe(false);
  expect(leaks(name)).toEqual([]);
}

describe("the kernel is the truth", () => {
  test("start killed after the runtime started the guest, before its record: the next start says so and starts it", () => {
    busyboxGuest(h, "orphan");
    const r = withFault("start.after-runtime", "kill", "orphan", "start");
    expect(r.code).not.toBe(0); // 137 in a direct run; the client of a killed service worker says 125
    // The guest init runs with no record of it: status must not call it plainly stopped ...
    expect(vs("orphan", "status").stdout).toMatch(/stopped \(processes left by a killed command remain/);
    expect(vs("orphan", "exec", "true").stderr).toMatch(/not running \(processes left by a killed command remain/);
    // ... and start removes them, says so in one line and in the journal, and starts the guest.
    const s = vs("orphan", "start");
    expect(s.code).toBe(0);
    expect(s.stderr).toMatch(/had processes running without a record of their start/);
    expect(s.stderr.trim().split("\n").length).toBe(1);
    expect(readFileSync(`${h.logDir}/events.log`, "utf8")).toMatch(/"op":"recover","guest":"orphan".*"action":"teardown"/);
    expect(vs("orphan", "exec", "echo", "ok").stdout).toBe("ok\n");
    expect(vs("orphan", "stop").code).toBe(0);
    expect(leaks("orphan")).toEqual([]);
  });

  test("the same, recovered by stop", () => {
    expect(withFault("start.after-runtime", "kill", "orphan", "start").code).not.toBe(0);
    const s = vs("orphan", "stop");
    expect(s.code).toBe(0);
    expect(s.stderr).toMatch(/stop stopped and removed them/);
    expect(leaks("orphan")).toEqual([]);
    usable("orphan");
    expect(vs("orphan", "delete", "--force").code).toBe(0);
  });
});

describe("parallel stops", () => {
  test("two parallel stops of the last running guests leave nothing mounted", async () => {
    busyboxGuest(h, "par1");
    busyboxGuest(h, "par2");
    for (let round = 0; round < 3; round++) {
      expect(vs("par1", "start").code).toBe(0);
      expect(vs("par2", "start").code).toBe(0);
      const stop = (g: string) => Bun.spawn([`${BIN}/vserver`, g, "stop"], { env: h.env, stdout: "ignore", stderr: "pipe" }).exited;
      expect(await Promise.all([stop("par1"), stop("par2")])).toEqual([0, 0]);
      expect(leaks("par1")).toEqual([]);
    }
    expect(vs("par1", "delete", "--force").code).toBe(0);
    expect(vs("par2", "delete", "--force").code).toBe(0);
  });
});

// Each row: the operation, its fault points, and how to set the guest up before it.
const START_POINTS = ["start.before-runtime", "start.after-runtime", "start.after-records", "start.after-start-command", "write:config.json", "lock.take"];
const STOP_POINTS = ["stop.before-kill", "stop.after-kill", "teardown.after-container", "teardown.before-records"];
const DELETE_POINTS = ["delete.before-stop", "delete.after-teardown", "delete.after-root-contents"];
const BUILD_POINTS = ["build.context", "build.after-root", "build.before-rename"];
const EXEC_POINTS = ["exec.before-runtime"];

let n = 0;
describe.each(["kill", "enospc"])("%s at", (action) => {
  for (const point of START_POINTS) {
    test(`start: ${point}`, () => {
      const g = `fs${n++}`;
      busyboxGuest(h, g);
      const r = withFault(point, action, g, "start");
      expect(r.code).not.toBe(0);
      if (action === "enospc") {
        expect(r.stderr).toMatch(/no space left/);
        expect(running(g)).toBe(false);
        expect(leaks(g)).toEqual([]);
      }
      usable(g);
      expect(vs(g, "delete", "--force").code).toBe(0);
    });
  }
  for (const point of [...STOP_POINTS, ...EXEC_POINTS]) {
    test(`${point.startsWith("exec") ? "exec" : "stop"}: ${point}`, () => {
      const g = `fs${n++}`;
      busyboxGuest(h, g);
      expect(vs(g, "start").code).toBe(0);
      const r = point.startsWith("exec") ? withFault(point, action, g, "exec", "true") : withFault(point, action, g, "stop");
      expect(r.code).not.toBe(0);
      usable(g);
      expect(vs(g, "delete", "--force").code).toBe(0);
    });
  }
  test("vlimit --save: write:nproc (a setting written whole or not at all)", () => {
    const g = `fs${n++}`;
    busyboxGuest(h, g, { "rlimits/nproc": "300\n" });
    expect(vs(g, "start").code).toBe(0);
    const r = h.run("vlimit", ["-c", g, "--nproc", "200", "--save"], { env: { VSERVER_FAULT: `write:nproc:${action}` } });
    expect(r.code).not.toBe(0);
    if (action === "enospc") expect(r.stderr).toContain(`${h.cfg(g)}/rlimits/nproc: no space left`);
    // The old value, whole; no temporary file read as a setting.
    expect(readFileSync(`${h.cfg(g)}/rlimits/nproc`, "utf8")).toBe("300\n");
    expect(vs(g, "stop").code).toBe(0);
    usable(g);
    expect(vs(g, "delete", "--force").code).toBe(0);
  });

  test("enter: exec.before-runtime", async () => {
    const g = `fs${n++}`;
    busyboxGuest(h, g);
    expect(vs(g, "start").code).toBe(0);
    // enter needs a terminal: script(1) gives it one.
    const p = Bun.spawn(["timeout", "60", "script", "-qfec", `${BIN}/vserver ${g} enter`, "/dev/null"], {
      env: { ...h.env, VSERVER_FAULT: `exec.before-runtime:${action}` }, stdin: "pipe", stdout: "pipe", stderr: "pipe",
    });
    const stdin = p.stdin as unknown as { write(s: string): void; flush(): void; end(): void };
    stdin.write("echo NOT-REACHED; exit\n");
    stdin.flush();
    const out = await new Response(p.stdout as unknown as ReadableStream).text();
    await p.exited;
    stdin.end();
    expect(out).not.toContain("NOT-REACHED\r\n");
    usable(g);
    expect(vs(g, "delete", "--force").code).toBe(0);
  });

  for (const point of ["exited.before-teardown", "exited.after-teardown"]) {
    test(`a guest that halted itself, cleaned up by the next command: ${point}`, async () => {
      const g = `fs${n++}`;
      busyboxGuest(h, g);
      expect(vs(g, "start").code).toBe(0);
      const pid = JSON.parse(readFileSync(`${h.runDir}/${g}`, "utf8")).pid;
      // No service from here to the faulty command: its watcher settles a guest that ended by
      // itself within seconds, and when it is first, the command has nothing left to settle.
      h.run("vserverd", ["--stop"]);
      const direct = { VSERVER_SERVICE: "off" };
      expect(h.run("vserver", [g, "exec", "halt"], { env: direct }).code).toBe(0);
      for (let i = 0; i < 200 && existsSync(`/proc/${pid}/stat`) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z"); i++) await Bun.sleep(50);
      const r = h.run("vserver", [g, "status"], { env: { ...direct, VSERVER_FAULT: `${point}:${action}` } });
      // The point was reached: the command died there (direct: 137; served: the client says so,
      // 125) or failed as on a full disk.
      if (action === "kill") expect([125, 137]).toContain(r.code);
      else expect(r.stderr).toMatch(/no space left/);
      usable(g);
      expect(vs(g, "delete", "--force").code).toBe(0);
    });
  }

  for (const point of DELETE_POINTS) {
    test(`delete: ${point}`, () => {
      const g = `fs${n++}`;
      busyboxGuest(h, g);
      expect(vs(g, "start").code).toBe(0);
      const r = withFault(point, action, g, "delete", "--force");
      expect(r.code).not.toBe(0);
      // The config is removed last: the guest is still there to delete again.
      expect(existsSync(h.cfg(g))).toBe(true);
      expect(vs(g, "delete", "--force").code).toBe(0);
      expect(existsSync(h.cfg(g))).toBe(false);
      expect(existsSync(h.vdir(g))).toBe(false);
      expect(leaks(g)).toEqual([]);
    });
  }
  for (const point of BUILD_POINTS) {
    test(`clone: ${point}`, () => {
      if (!existsSync(h.cfg("fsrc"))) busyboxGuest(h, "fsrc");
      const g = `fs${n++}`;
      const r = withFault(point, action, g, "build", "-m", "clone", "--quiet", "--", "-s", "fsrc");
      expect(r.code).not.toBe(0);
      expect(existsSync(h.cfg(g))).toBe(false);
      expect(vs(g, "build", "-m", "clone", "--quiet", "--", "-s", "fsrc").code).toBe(0);
      expect(readdirSync(h.confDir).filter((f) => f.includes(".build-"))).toEqual([]);
      expect(readdirSync(`${h.root}/vservers`).filter((f) => f.includes(".build-"))).toEqual([]);
      usable(g);
      expect(vs(g, "delete", "--force").code).toBe(0);
    });
  }
  for (const point of ["stop.after-kill", "start.after-runtime", "start.after-records"]) {
    test(`restart: ${point}`, () => {
      const g = `fs${n++}`;
      busyboxGuest(h, g);
      expect(vs(g, "start").code).toBe(0);
      expect(withFault(point, action, g, "restart").code).not.toBe(0);
      usable(g);
      expect(vs(g, "delete", "--force").code).toBe(0);
    });
  }
  for (const point of BUILD_POINTS) {
    test(`build: ${point}`, () => {
      const g = `fs${n++}`;
      const r = withFault(point, action, g, "build", "-m", "busybox", "--quiet");
      expect(r.code).not.toBe(0);
      expect(existsSync(h.cfg(g))).toBe(false);
      if (action === "enospc") {
        expect(r.stderr).toMatch(/ran out of space writing \//);
        // A failed build keeps nothing, not even its temporary directories.
        expect(readdirSync(h.confDir).filter((f) => f.includes(".build-"))).toEqual([]);
        expect(readdirSync(`${h.root}/vservers`).filter((f) => f.includes(".build-"))).toEqual([]);
      }
      // The next build of the name clears what a killed one left, and the guest works.
      expect(vs(g, "build", "-m", "busybox", "--quiet").code).toBe(0);
      expect(readdirSync(h.confDir).filter((f) => f.includes(".build-"))).toEqual([]);
      usable(g);
      expect(vs(g, "delete", "--force").code).toBe(0);
    });
  }
});

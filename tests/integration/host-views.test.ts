// The host's view of guests, checked against real guests: processes started in two guests and on
// the host are attributed to the right context by vps and counted by vserver-stat; vkill of PID 0
// empties a guest even while it forks; vwait returns when a guest stops and times out otherwise.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { TestHost, busyboxGuest, BIN } from "../helpers/host";

const h = new TestHost("views");
const hostSleepers: Array<ReturnType<typeof Bun.spawn>> = [];

afterAll(() => {
  for (const p of hostSleepers) p.kill("SIGKILL");
  h.cleanup();
});

/** Start a background process inside a guest; its output must not hold our pipe open. */
function bgInGuest(name: string, script: string) {
  const r = h.inGuest(name, "/bin/sh", "-c", `${script} >/dev/null 2>&1 </dev/null &`);
  if (r.code !== 0) throw new Error(`exec in ${name} failed: ${r.stderr}`);
}

function pidsOf(cmdline: string): number[] {
  const r = Bun.spawnSync(["pgrep", "-f", "-x", cmdline]);
  return r.stdout.toString().split("\n").filter(Boolean).map(Number);
}

function guestProcs(name: string): number[] {
  const rec = JSON.parse(readFileSync(`${h.runDir}/${name}`, "utf8"));
  try {
    return readFileSync(`/sys/fs/cgroup/pids${rec.cgroupPath}/cgroup.procs`, "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Gone or a zombie waiting for the host's init to reap it. */
function gone(pid: number): boolean {
  try {
    return /^\d+ \(.*\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

async function until(cond: () => boolean, seconds: number): Promise<boolean> {
  const end = Date.now() + seconds * 1000;
  while (!cond()) {
    if (Date.now() > end) return false;
    await Bun.sleep(50);
  }
  return true;
}

describe("attribution of processes to guests", () => {
  beforeAll(() => {
    busyboxGuest(h, "alpha", { context: "40101\n" });
    busyboxGuest(h, "beta-with-a-long-name", { context: "40102\n" });
    h.ok("alpha", "start");
    h.ok("beta-with-a-long-name", "start");
    bgInGuest("alpha", "sleep 4711");
    bgInGuest("beta-with-a-long-name", "sleep 4712");
    hostSleepers.push(Bun.spawn(["sleep", "4713"], { stdout: "ignore", stderr: "ignore" }));
  });

  test("vps shows each process with its guest's context and name, host processes as 0 MAIN", () => {
    const r = h.run("vps", ["ax"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^\s*PID CONTEXT\s+TTY/);
    const line = (cmd: string) => lines.find((l) => l.endsWith(cmd)) ?? "";
    expect(line("sleep 4711")).toMatch(/^\s*\d+ 40101 alpha\s/);
    expect(line("sleep 4712")).toMatch(/^\s*\d+ 40102 beta-with-a-long-name\s/);
    expect(line("sleep 4713")).toMatch(/^\s*\d+\s+0 MAIN\s/);
    // The guest's PID 1 too; ERR only for processes that ended between ps and the lookup.
    expect(lines.filter((l) => / 40101 alpha /.test(l)).length).toBe(2);
    const unplaced = lines.filter((l) => / ERR /.test(l)).map((l) => Number(l.trim().split(" ")[0]));
    expect(unplaced.filter((p) => !gone(p))).toEqual([]);
  });

  test("vps passes ps options through and --json gives rows", () => {
    const [pid] = pidsOf("sleep 4711");
    const r = h.run("vps", ["-o", "pid,comm", "-p", String(pid)]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[1]).toMatch(new RegExp(`^\\s*${pid} 40101 alpha\\s+sleep$`));
    const rows = JSON.parse(h.run("vps", ["ax", "--json"]).stdout);
    const row = rows.find((x: { pid: number }) => x.pid === pid);
    expect(row).toMatchObject({ pid, context: 40101, name: "alpha" });
    expect(row.fields.COMMAND).toBe("sleep 4711");
    const host = rows.find((x: { pid: number }) => x.pid === hostSleepers[0]!.pid);
    expect(host).toMatchObject({ context: 0, name: "MAIN" });
  });

  test("vserver-stat has a line per guest and the host, in util-vserver's columns", () => {
    const r = h.run("vserver-stat", []);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("CTX   PROC    VSZ    RSS  userTIME   sysTIME    UPTIME NAME");
    expect(lines[1]).toMatch(/^0\s+\d+ .* root server$/);
    const a = lines.find((l) => l.startsWith("40101"));
    expect(a).toMatch(/^40101\s+2\s+\S+\s+\S+\s+\d+m\d\ds\d\d\s+\d+m\d\ds\d\d\s+\S+ alpha$/);
    expect(a!.indexOf("alpha")).toBe(55);
    expect(lines.find((l) => l.startsWith("40102"))).toMatch(/^40102\s+2 .* beta-with-a-long-nam$/);
  });

  test("the views print the same through the host service and directly", () => {
    const both = (cmd: string, args: string[]) => {
      const served = h.run(cmd, args, { env: { VSERVER_SERVICE: "" } });
      const direct = h.run(cmd, args, { env: { VSERVER_SERVICE: "off" } });
      expect([served.code, served.stderr]).toEqual([0, ""]);
      expect([direct.code, direct.stderr]).toEqual([0, ""]);
      return [served.stdout.split("\n"), direct.stdout.split("\n")] as const;
    };
    // vserver-stat: every column but UPTIME, which moves between the two calls
    const [sf, ss] = both("vserver-stat", []);
    const guestCells = (lines: readonly string[]) => lines.filter((l) => /^4010[12] /.test(l)).map((l) => l.slice(0, 45) + l.slice(55));
    expect(sf[0]).toBe(ss[0]!);
    expect(guestCells(sf)).toEqual(guestCells(ss));
    expect(guestCells(sf)).toHaveLength(2);
    expect(sf[1]).toMatch(/^0\s+\d+ .* root server$/);
    // vps: the header and every guest row, byte for byte
    const [vf, vs] = both("vps", ["ax"]);
    const guestRows = (lines: readonly string[]) => lines.filter((l) => / 4010[12] /.test(l));
    expect(vf[0]).toBe(vs[0]!);
    expect(guestRows(vf)).toEqual(guestRows(vs));
    expect(guestRows(vf)).toHaveLength(4);
    const [pid] = pidsOf("sleep 4712");
    const [of, os] = both("vps", ["-o", "pid", "-p", String(pid)]);
    expect(of).toEqual(os);
    expect(of[1]).toMatch(new RegExp(`^\\s*${pid} 40102 beta-with-a-long-name$`));
  });
  test("vtop -b and vpstree give the same attribution", () => {
    const [pid] = pidsOf("sleep 4711");
    const top = h.run("vtop", ["-b", "-p", String(pid)]);
    expect(top.code).toBe(0);
    // The user is the host's: guest root runs as the first id of the guest's range (context ×
    // 65536, which top cuts to its column), or root in a privileged guest (docs/security.md).
    expect(top.stdout).toMatch(new RegExp(`\\n\\s*${pid} 40101 alpha\\s+(root|${String(40101 * 65536).slice(0, 7)}\\+?|${40101 * 65536})\\s`));
    const init = JSON.parse(readFileSync(`${h.runDir}/alpha`, "utf8")).pid;
    const tree = h.run("vpstree", [String(init)]);
    expect(tree.code).toBe(0);
    expect(tree.stdout).toContain(`(${init})[40101 alpha]`);
    expect(tree.stdout).toContain(`sleep(${pid})`);
    expect(tree.stdout).not.toContain(`sleep(${pid})[`);
    const bad = h.run("vtop", ["-d", "x"]);
    expect([bad.code, bad.stderr]).toEqual([2, "vtop: -d: 'x' is not a number of seconds.\n"]);
  });

  test("vserver-stat --json adds the cgroup's numbers", () => {
    const all = JSON.parse(h.run("vserver-stat", ["--json"]).stdout);
    const a = all.find((x: { context: number }) => x.context === 40101);
    expect(a.name).toBe("alpha");
    expect(a.processes).toBe(2);
    expect(a.pids).toBe(2);
    expect(a.pidsLimit).toBe(4096);
    expect(a.memoryBytes).toBeGreaterThan(0);
    expect(a.memoryLimitBytes).toBeGreaterThan(0);
    expect(typeof a.cpuSeconds).toBe("number");
    // Host networking: no bytes of its own to report.
    expect(a.netRxBytes).toBeNull();
    expect(all[0].context).toBe(0);
  });
});

describe("vkill", () => {
  test("PID 0 leaves the guest with no process, even one that keeps forking", async () => {
    bgInGuest("alpha", "while :; do sleep 30 & sleep 0.01; done");
    expect(await until(() => guestProcs("alpha").length > 5, 10)).toBe(true);
    const r = h.run("vkill", ["--xid", "alpha", "-s", "KILL", "0"]);
    expect(r.code).toBe(0);
    expect(await until(() => guestProcs("alpha").length === 0, 10)).toBe(true);
    await Bun.sleep(300);
    expect(guestProcs("alpha")).toEqual([]);
    expect(h.vserver("alpha", "running").code).toBe(1);
    h.ok("alpha", "stop"); // removes what the killed guest left
    h.ok("alpha", "start");
  });

  test("PID 1 is the guest's init; a PID of another context is refused", async () => {
    bgInGuest("beta-with-a-long-name", "sleep 4714");
    const [outside] = pidsOf("sleep 4713");
    const bad = h.run("vkill", ["-c", "40102", "-s", "KILL", String(outside)]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^vkill: process \d+ is not in context 40102 \(it is in context 0\)\.\n$/);
    expect(pidsOf("sleep 4713").length).toBe(1);
    const [inside] = pidsOf("sleep 4714");
    expect(h.run("vkill", ["-c", "40102", String(inside)]).code).toBe(0);
    expect(await until(() => pidsOf("sleep 4714").length === 0, 5)).toBe(true);
    const init = JSON.parse(readFileSync(`${h.runDir}/beta-with-a-long-name`, "utf8")).pid;
    expect(h.run("vkill", ["-c", "beta-with-a-long-name", "-s", "KILL", "1"]).code).toBe(0);
    expect(await until(() => guestProcs("beta-with-a-long-name").length === 0, 10)).toBe(true);
    expect(await until(() => gone(init), 10)).toBe(true);
    h.ok("beta-with-a-long-name", "stop");
    h.ok("beta-with-a-long-name", "start");
  });

  test("errors name the cause", () => {
    const cases: Array<[string[], number, RegExp]> = [
      [["--xid", "nosuch", "0"], 1, /^vkill: no guest named 'nosuch'/],
      [["--xid", "40999", "0"], 1, /^vkill: context 40999 has no processes/],
      [["--xid", "alpha", "-s", "NOPE", "0"], 2, /^vkill: 'NOPE' is not a signal name/],
      [["--xid", "alpha", "x1"], 2, /^vkill: 'x1' is not a PID\./],
      [["--xid", "alpha"], 2, /^vkill: no PID given/],
      [["0"], 2, /^vkill: PID 0 .* needs --xid/],
      [["--bogus", "1"], 2, /^vkill: Unknown option '--bogus'/],
    ];
    for (const [args, code, re] of cases) {
      const r = h.run("vkill", args);
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split("\n").length).toBe(1);
    }
    busyboxGuest(h, "stopped");
    const r = h.run("vkill", ["--xid", "stopped", "0"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("vkill: guest 'stopped' is not running.\n");
  });
});

describe("vwait", () => {
  test("times out while the guest runs, then returns FINISHED when it stops", async () => {
    const t = h.run("vwait", ["--timeout", "0.5", "alpha"]);
    expect(t.stdout).toBe("TIMEOUT\n");
    expect(t.code).toBe(2);
    const waiter = Bun.spawn([`${BIN}/vwait`, "--timeout", "60", "40101"], { env: h.env, stdout: "pipe", stderr: "pipe" });
    await Bun.sleep(300);
    h.ok("alpha", "stop");
    const code = await waiter.exited;
    // The guest's real status: stop's kill sequence ends PID 1 (our guest init) with SIGKILL.
    expect(await new Response(waiter.stdout).text()).toBe("FINISHED 137\n");
    expect(code).toBe(0);
    h.ok("alpha", "start");
  });

  test("--terminate kills the guest at the timeout and says KILLED", async () => {
    const r = h.run("vwait", ["--timeout", "0.3", "--terminate", "beta-with-a-long-name"]);
    expect(r.stdout).toBe("KILLED\n");
    expect(r.code).toBe(1);
    expect(guestProcs("beta-with-a-long-name")).toEqual([]);
    h.ok("beta-with-a-long-name", "stop");
  });

  test("errors: unknown guest, stopped guest, bad timeout", () => {
    let r = h.run("vwait", ["nosuch"]);
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/^vwait: no guest named 'nosuch'/);
    expect(r.stdout).toBe("ERROR 3\n");
    r = h.run("vwait", ["stopped"]);
    expect(r.code).toBe(127);
    expect(r.stderr).toBe("vwait: guest 'stopped' is not running.\n");
    r = h.run("vwait", ["--timeout", "soon", "alpha"]);
    expect(r.code).toBe(127);
    expect(r.stderr).toBe("vwait: --timeout: 'soon' is not a number of seconds.\n");
  });
});

describe("argument errors of the views", () => {
  test("vserver-stat and vps", () => {
    let r = h.run("vserver-stat", ["--bogus"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vserver-stat: unknown option '--bogus'/);
    r = h.run("vps", ["--no-such-ps-option"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vps: ps refused the options '--no-such-ps-option'/);
    expect(r.stderr.trim().split("\n").length).toBe(1);
  });
});

// The runtime layer: no resident helper per guest, PID 1 reaps orphans, and runc works as the
// alternative runtime.

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { TestHost, busyboxGuest } from "../helpers/host";

const h = new TestHost("rt");
afterAll(() => h.cleanup());

function ppid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

function commOf(pid: number): string {
  try { return readFileSync(`/proc/${pid}/comm`, "utf8").trim(); } catch { return ""; }
}

describe("runtime", () => {
  test("a running guest keeps no monitor or helper process on the host", () => {
    busyboxGuest(h, "r1");
    h.ok("r1", "start");
    const rec = JSON.parse(readFileSync(`${h.runDir}/r1`, "utf8"));
    // PID 1's parent is not one of ours: the runtime detached and exited.
    expect(["crun", "runc", "conmon", "bun", "vserver", "nsenter"]).not.toContain(commOf(ppid(rec.pid)));
    // No process anywhere mentions this state root (a monitor would carry it on its command line).
    const ours = readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((p) => {
      try { return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(h.root); } catch { return false; }
    });
    expect(ours).toEqual([]);
  });

  test("PID 1 reaps orphans: many short-lived orphans leave no zombie", () => {
    h.inGuest("r1", "sh", "-c", "i=0; while [ $i -lt 30 ]; do (sleep 0.1 &) ; i=$((i+1)); done; sleep 1");
    const z = h.inGuest("r1", "sh", "-c", "cat /proc/[0-9]*/stat 2>/dev/null | awk '$3==\"Z\"' | wc -l").stdout.trim();
    expect(z).toBe("0");
    h.ok("r1", "stop");
  });

  test("crun's leftovers in the cgroup view go with each guest, while other guests keep the view", () => {
    const shadow = `${h.runDir}/.runtime/cgroup2-shadow`;
    busyboxGuest(h, "v1");
    busyboxGuest(h, "v2");
    h.ok("v1", "start");
    h.ok("v2", "start");
    if (!existsSync(shadow)) return; // no hidden view on this host (pure v1/v2, or runc)
    const ctx = (n: string) => JSON.parse(readFileSync(`${h.runDir}/${n}`, "utf8")).cgroupPath as string;
    const c1 = ctx("v1");
    expect(existsSync(`${shadow}${c1}`)).toBe(true);
    h.ok("v1", "stop");
    expect(existsSync(`${shadow}${c1}`)).toBe(false);
    expect(existsSync(`${shadow}${ctx("v2")}`)).toBe(true);
    h.ok("v2", "stop");
    expect(existsSync(shadow)).toBe(false);
  });

  test("runc as the alternative runtime", () => {
    busyboxGuest(h, "r2", { "uts/nodename": "via-runc\n" });
    const env = { VSERVER_RUNTIME: "runc" };
    const start = h.run("vserver", ["r2", "start"], { env });
    expect(start.stderr).toBe("");
    expect(start.code).toBe(0);
    expect(readdirSync(`${h.runDir}/.runtime/runc`)).toContain("r2");
    expect(h.run("vserver", ["r2", "exec", "hostname"], { env }).stdout.trim()).toBe("via-runc");
    // The header, init, the init's exec handler, and ps.
    expect(h.run("vserver", ["r2", "exec", "ps"], { env }).stdout.trim().split("\n").length).toBeLessThanOrEqual(4);
    // Later commands find the runtime in the run record, whatever VSERVER_RUNTIME says.
    expect(h.vserver("r2", "exec", "hostname").stdout.trim()).toBe("via-runc");
    expect(h.vserver("r2", "stop").code).toBe(0);
    expect(h.run("vserver", ["r2", "running"], { env }).code).toBe(1);
    expect(h.leftovers()).toEqual([]);
  });

  test("capabilities the host's root lacks are dropped with a warning, not a failed start", () => {
    busyboxGuest(h, "r3", { bcapabilities: "all\n" });
    const r = h.vserver("r3", "start");
    expect(r.code).toBe(0);
    const hostBnd = BigInt("0x" + /^CapBnd:\s*(\w+)$/m.exec(readFileSync("/proc/self/status", "utf8"))![1]);
    const guestBnd = BigInt("0x" + h.inGuest("r3", "grep", "CapBnd", "/proc/self/status").stdout.split(/\s+/)[1]);
    expect(guestBnd & ~hostBnd).toBe(0n);
    expect(guestBnd & (1n << 21n)).toBe(1n << 21n); // SYS_ADMIN was granted
    if (hostBnd !== guestBnd) expect(r.stderr).toMatch(/this host's root lacks CAP_/);
    h.ok("r3", "stop");
  });

  test("an unknown runtime is refused naming the setting", () => {
    const r = h.run("vserver", ["r2", "start"], { env: { VSERVER_RUNTIME: "kata" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown OCI runtime 'kata'/);
  });
});

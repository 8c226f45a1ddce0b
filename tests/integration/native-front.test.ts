// The native front-end of `vserver` (src/native): exec and running answered from the exec record
// without the JavaScript runtime, and every case it must not serve handed to the TypeScript
// command, which gives the same results. Which path ran is told from the outside: the process we
// spawned is either our C program (bin/vserver) or Bun.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readlinkSync, writeFileSync, openSync, closeSync } from "node:fs";
import { TestHost, busyboxGuest, BIN } from "../helpers/host";

const h = new TestHost("native");
afterAll(() => h.cleanup());
const G = "nf1";

/** Start `vserver G exec sleep 30` and report which program our process is once the guest runs it. */
async function pathTaken(env: Record<string, string> = {}, stdout: "pipe" | number = "pipe"): Promise<"native" | "bun"> {
  const p = Bun.spawn([`${BIN}/vserver`, G, "exec", "/bin/sleep", "30"], { env: { ...h.env, ...env }, stdin: "ignore", stdout, stderr: "pipe" });
  try {
    for (let i = 0; i < 100; i++) {
      // the guest's sleep is a descendant of ours: once it runs, our own program is settled
      const kids = readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, "utf8").trim();
      if (kids) {
        const exe = readlinkSync(`/proc/${p.pid}/exe`);
        if (exe === `${BIN}/vserver`) return "native";
        if (exe === readlinkSync(`/proc/self/exe`) || exe.endsWith("/bun")) return "bun";
        throw new Error(`unexpected program ${exe}`);
      }
      await Bun.sleep(50);
    }
    throw new Error("the guest's command never started");
  } finally {
    h.inGuest(G, "killall", "sleep");
    await p.exited;
  }
}

function journal(): Array<Record<string, unknown>> {
  return readFileSync(`${h.logDir}/events.log`, "utf8").trim().split("\n").map((l) => JSON.parse(l));
}

describe("native front-end", () => {
  beforeAll(() => {
    busyboxGuest(h, G);
    h.ok(G, "start");
  });

  test("start writes the exec record; exec from a pipe takes the native path", async () => {
    const rec = readFileSync(`${h.runDir}/.exec/${G}`, "utf8");
    expect(rec).toMatch(/^version 1$/m);
    expect(rec).toMatch(/^arg exec$/m);
    expect(rec).toMatch(new RegExp(`^arg ${G}$`, "m"));
    expect(await pathTaken()).toBe("native");
    expect(await pathTaken({ VSERVER_NATIVE: "0" })).toBe("bun");
  });

  test("both paths give the same output, status and journal line", () => {
    const cmd = ["/bin/sh", "-c", "echo out; echo err >&2; exit 5"];
    const fast = h.inGuest(G, ...cmd);
    const fastEv = journal().at(-1)!;
    const slow = h.run("vserver", [G, "exec", ...cmd], { env: { VSERVER_NATIVE: "0" } });
    const slowEv = journal().at(-1)!;
    expect(fast).toEqual({ code: 5, stdout: "out\n", stderr: "err\n" });
    expect(slow).toEqual(fast);
    for (const ev of [fastEv, slowEv]) {
      expect(ev).toMatchObject({ op: "exec", guest: G, ok: true, argv0: "/bin/sh", exit: 5 });
      expect(typeof ev.time).toBe("string");
    }
    expect(Object.keys(fastEv).sort()).toEqual(Object.keys(slowEv).sort());
  });

  test("a leading -- is dropped, and a killed command reports 128+signal", () => {
    expect(h.inGuest(G, "--", "/bin/echo", "a b").stdout).toBe("a b\n");
    expect(h.inGuest(G, "/bin/sh", "-c", "kill -TERM $$").code).toBe(128 + 15);
    expect(h.run("vserver", [G, "exec", "/bin/sh", "-c", "kill -TERM $$"], { env: { VSERVER_NATIVE: "0" } }).code).toBe(128 + 15);
  });

  test("a regular file on stdout is relayed by the slow path, never handed to the guest", async () => {
    const file = `${h.root}/out.txt`;
    const fd = openSync(file, "w");
    try {
      expect(await pathTaken({}, fd)).toBe("bun");
    } finally {
      closeSync(fd);
    }
    const r = Bun.spawnSync([`${BIN}/vserver`, G, "exec", "/bin/sh", "-c", "ls -l /proc/self/fd/1"], { env: h.env, stdin: "ignore", stdout: openSync(file, "w") });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(file, "utf8")).toMatch(/-> (pipe|socket):/);
  });

  test("running: 0 from the record; a damaged record falls back to the slow path", async () => {
    expect(h.vserver(G, "running").code).toBe(0);
    const file = `${h.runDir}/.exec/${G}`;
    const good = readFileSync(file, "utf8");
    try {
      writeFileSync(file, good.replace(/^pid-start .*$/m, "pid-start 1"));
      expect(await pathTaken()).toBe("bun");
      expect(h.vserver(G, "running").code).toBe(0);
      writeFileSync(file, "version 99\n");
      expect(h.inGuest(G, "/bin/true").code).toBe(0);
    } finally {
      writeFileSync(file, good);
    }
    expect(await pathTaken()).toBe("native");
  });

  test("the private flag: vattribute changes the record at once; the refusal is the slow path's", async () => {
    expect(h.run("vattribute", ["--xid", G, "--set", "--flag", "private"]).code).toBe(0);
    expect(readFileSync(`${h.runDir}/.exec/${G}`, "utf8")).toMatch(/^private 1$/m);
    const r = h.inGuest(G, "/bin/true");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`vserver: guest '${G}' has the 'private' flag (${h.cfg(G)}/cflags): exec is refused.\n`);
    expect(h.vserver(G, "running").code).toBe(0);
    expect(h.run("vattribute", ["--xid", G, "--set", "--flag", "~private"]).code).toBe(0);
    expect(await pathTaken()).toBe("native");
  });

  test("bad names and verbs get the slow path's errors", () => {
    for (const args of [["../x", "exec", "/bin/true"], ["-x", "exec", "/bin/true"], [G, "exec"], [G, "running", "extra"]]) {
      const r = h.vserver(...args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/^vserver: /);
    }
  });

  test("after stop the record is gone and exec says the guest is not running", () => {
    h.ok(G, "stop");
    expect(existsSync(`${h.runDir}/.exec/${G}`)).toBe(false);
    expect(h.vserver(G, "running").code).toBe(1);
    const r = h.inGuest(G, "/bin/true");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`vserver: guest '${G}' is not running.\n`);
  });
});

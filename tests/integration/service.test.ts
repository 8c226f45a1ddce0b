// The host service (vserverd) and the thin client: the first command starts it, later commands
// are served by its workers with the caller's own descriptors, signals and exit status; it is
// never needed (ordinary users, VSERVER_SERVICE=off, a request it must not serve all run
// directly); and killing it, even in the middle of an operation, leaves every guest usable.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { TestHost, busyboxGuest, BIN } from "../helpers/host";
import { encodeRequest } from "../../src/pure/service-protocol";

const h = new TestHost("service");
// This file is about the service: it is on here whatever the suite's pass says.
h.env.VSERVER_SERVICE = "";
afterAll(() => h.cleanup());

const socket = () => `${h.root}/run/vservers/.service/socket`;

/** The service is up: its lock names a live process and its socket is there (bound after the lock). */
const serviceUp = () => servicePid() !== undefined && existsSync(socket());

function servicePid(): number | undefined {
  try {
    const pid = Number(readlinkSync(`${h.root}/run/vservers/.service/service.lock`).split(" ")[0]);
    return existsSync(`/proc/${pid}`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function until(cond: () => boolean, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await Bun.sleep(20);
  }
}

function parentOf(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return 0;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** Host processes whose command line contains all the words. */
function processesWith(...words: string[]): number[] {
  return readdirSync("/proc").filter((p) => /^\d+$/.test(p)).map(Number).filter((p) => {
    const c = cmdline(p);
    return words.every((w) => c.includes(w));
  });
}

/** Every process of this root's service: the supervisor and its workers. */
function serviceProcesses(): number[] {
  const sup = servicePid();
  if (!sup) return [];
  return [sup, ...readdirSync("/proc").filter((p) => /^\d+$/.test(p)).map(Number).filter((p) => parentOf(p) === sup)];
}

describe("the host service", () => {
  beforeAll(async () => {
    expect(h.vserver("--list").code).toBe(0);
    // A state root nothing has used yet gets no service (nor any run state) from a command.
    expect(existsSync(`${h.root}/run`)).toBe(false);
    busyboxGuest(h, "s1");
    h.ok("--list");
    await until(serviceUp);
  });

  test("the first command on a used state root started it, and the socket is root's alone", () => {
    expect(h.run("vserverd", ["--status"]).code).toBe(0);
    const mode = Bun.spawnSync(["stat", "-c", "%a %U", socket()]).stdout.toString().trim();
    expect(mode).toBe("600 root");
    const dir = Bun.spawnSync(["stat", "-c", "%a", `${h.root}/run/vservers/.service`]).stdout.toString().trim();
    expect(dir).toBe("700");
  });

  test("a command is run by one of its workers, not by the client", async () => {
    h.ok("s1", "start");
    await until(serviceUp);
    // The runtime's way, whose exec process shows whose child the command is.
    const p = Bun.spawn([`${BIN}/vserver`, "s1", "exec", "sleep", "7.25"], { env: { ...h.env, VSERVER_EXEC: "runtime" }, stdout: "pipe", stderr: "pipe" });
    try {
      let execs: number[] = [];
      await until(() => (execs = processesWith("exec", "s1", "sleep", "7.25").filter((x) => x !== p.pid && !cmdline(x).includes("bin/vserver"))).length > 0);
      // The runtime's exec is a child of a worker, whose parent is the supervisor.
      const worker = parentOf(execs[0]!);
      expect(cmdline(worker)).toContain("vserverd.js --worker");
      expect(parentOf(worker)).toBe(servicePid()!);
    } finally {
      p.kill("SIGKILL");
    }
  });

  test("stdio, working directory and exit status are the caller's", () => {
    const r = Bun.spawnSync(["sh", "-c", `cd ${h.root} && echo from-stdin | ${BIN}/vserver s1 exec sh -c 'cat; echo to-stderr >&2; exit 7' > out.txt 2> err.txt; echo $?`], { env: h.env });
    expect(r.stdout.toString().trim()).toBe("7");
    expect(readFileSync(`${h.root}/out.txt`, "utf8")).toBe("from-stdin\n");
    expect(readFileSync(`${h.root}/err.txt`, "utf8")).toBe("to-stderr\n");
    // Environment reaches the command: a state root of its own would be another installation.
    const other = h.run("vserver", ["--list"], { env: { VSERVER_ROOT: `${h.root}/nowhere` } });
    expect(other.code).toBe(0);
    expect(other.stdout).not.toContain("s1");
  });

  test("a signal to the client reaches the command in the guest", async () => {
    const p = Bun.spawn([`${BIN}/vserver`, "s1", "exec", "sleep", "9.75"], { env: h.env, stdout: "pipe", stderr: "pipe" });
    await until(() => h.inGuest("s1", "ps").stdout.includes("sleep 9.75"));
    p.kill("SIGTERM");
    expect(await p.exited).toBe(143);
    await until(() => !h.inGuest("s1", "ps").stdout.includes("sleep 9.75"));
  });

  test("a request for another state root, or a malformed one, is sent back to run directly", async () => {
    const ask = async (payload: Buffer) => {
      let answer = "";
      const done = Promise.withResolvers<void>();
      await Bun.connect({
        unix: socket(),
        socket: {
          open(s) { s.write(payload); },
          data(_s, d) { answer += d.toString(); },
          close() { done.resolve(); },
          error() { done.resolve(); },
        },
      });
      await done.promise;
      return answer;
    };
    const req = { command: "vserver", cwd: "/", umask: 0o22, args: ["--list"], env: { VSERVER_ROOT: "/elsewhere" } };
    expect(await ask(encodeRequest(req))).toBe("direct\n");
    expect(await ask(Buffer.from("\x05\0\0\0hello"))).toBe("direct\n");
    // No descriptors came with a well-formed request for this root: not served either.
    expect(await ask(encodeRequest({ ...req, env: { VSERVER_ROOT: h.root } }))).toBe("direct\n");
  });

  test("root with fewer rights runs its command itself, keeping its limits", () => {
    // Served, the command would run with the service's full bounding set.
    const served = h.run("reducecap", ["--show"]).stdout;
    expect(served).toContain("CAP_SYS_ADMIN");
    const lowered = Bun.spawnSync(["setpriv", "--bounding-set", "-sys_admin", `${BIN}/reducecap`, "--show"], { env: h.env, stdout: "pipe", stderr: "pipe" });
    expect(lowered.exitCode).toBe(0);
    expect(lowered.stdout.toString()).not.toContain("CAP_SYS_ADMIN");
    const nnp = Bun.spawnSync(["setpriv", "--no-new-privs", `${BIN}/vserver`, "s1", "exec", "grep", "NoNewPrivs", "/proc/self/status"], { env: h.env, stdout: "pipe" });
    expect(nnp.stdout.toString()).toMatch(/NoNewPrivs:\s+1/);
  });

  test("ordinary users, and VSERVER_SERVICE=off, run commands directly", () => {
    const off = h.run("vserver", ["s1", "exec", "true"], { env: { VSERVER_SERVICE: "off" } });
    expect(off.code).toBe(0);
    const nobody = Bun.spawnSync(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", `${BIN}/vserver`, "--version"], { env: h.env, stdout: "pipe", stderr: "pipe" });
    expect(nobody.stdout.toString()).toBe("vserver 0.1.0\n");
  });

  test("a worker serves the views and waits again: no new worker, each caller its own output and status", async () => {
    if (h.vserver("s1", "running").code !== 0) h.ok("s1", "start");
    await until(serviceUp);
    const workers = () => serviceProcesses().filter((p) => cmdline(p).includes("--worker")).sort();
    // The pool settles first (a worker that served a one-shot command may still be replaced).
    await until(() => workers().length === 4);
    const before = workers();
    const out = (r: { stdout: string }) => r.stdout;
    for (let i = 0; i < 6; i++) {
      expect(h.vserver("s1", "running").code).toBe(0);
      expect(out(h.vserver("--list"))).toContain("s1");
      expect(h.vserver("nosuch", "running").stderr).toMatch(/^vserver: no guest named 'nosuch'/);
      expect(h.run("vserver-stat", []).code).toBe(0);
    }
    expect(workers()).toEqual(before);
    // Each call's output went to its own caller: a status with --json parses whole.
    expect(JSON.parse(out(h.vserver("s1", "status", "--json"))).name).toBe("s1");
    // A command that changes things ends its worker, whose successor takes its place.
    h.ok("s1", "exec", "true");
    await until(() => workers().length === 4 && workers().join() !== before.join());
  });

  test("a reused worker reads the config anew: an edit of .defaults between two calls is seen", () => {
    const style = `${h.confDir}/.defaults/apps/init/style`;
    h.ok("--list");
    mkdirSync(dirname(style), { recursive: true });
    const list = () => h.vserver("--list").stdout.split("\n").find((l) => l.startsWith("s2 ")) ?? "";
    busyboxGuest(h, "s2");
    rmSync(`${h.confDir}/s2/apps/init/style`, { force: true });
    try {
      expect(list()).toContain("sysv");
      writeFileSync(style, "plain\n");
      expect(list()).toContain("plain");
    } finally {
      rmSync(style, { force: true });
      h.ok("s2", "delete", "--force");
    }
  });

  test("stopping the service leaves the guest running, and the next command starts it again", async () => {
    expect(h.run("vserverd", ["--stop"]).code).toBe(0);
    expect(servicePid()).toBeUndefined();
    // Its waiting workers leave with it (a busy one would finish its command first).
    const ours = () => processesWith("vserverd.js", "--worker").filter((p) => {
      try { return readFileSync(`/proc/${p}/environ`, "utf8").includes(`VSERVER_ROOT=${h.root}\0`); } catch { return false; }
    });
    await until(() => ours().length === 0, 5000);
    expect(h.vserver("s1", "running").code).toBe(0);
    expect(h.inGuest("s1", "echo", "still here").stdout).toBe("still here\n");
    await until(serviceUp);
  });
});

describe("a kill -9 of the service in the middle of an operation", () => {
  // The supervisor and every worker, the one running the operation too, die at once: the state
  // on disk and the locks are the truth, and the next command recovers as after a killed command.
  async function killServiceDuring(args: string[], afterMs: number): Promise<void> {
    await until(() => serviceUp() && serviceProcesses().length > 1);
    const p = Bun.spawn([`${BIN}/vserver`, ...args], { env: h.env, stdout: "ignore", stderr: "ignore" });
    await Bun.sleep(afterMs);
    for (const pid of serviceProcesses()) try { process.kill(pid, "SIGKILL"); } catch {}
    await p.exited;
  }

  function usable(name: string): void {
    // Whatever the killed operation got to, the guest can be started, used, stopped.
    h.vserver(name, "start");
    expect(h.vserver(name, "running").code).toBe(0);
    expect(h.inGuest(name, "echo", "ok").stdout).toBe("ok\n");
    h.ok(name, "stop");
    expect(h.vserver(name, "status").code).toBe(3);
  }

  for (const ms of [30, 120, 300]) {
    test(`during start (after ${ms} ms)`, async () => {
      busyboxGuest(h, `ks${ms}`);
      await killServiceDuring([`ks${ms}`, "start"], ms);
      usable(`ks${ms}`);
    });

    test(`during stop (after ${ms} ms)`, async () => {
      busyboxGuest(h, `kt${ms}`);
      h.ok(`kt${ms}`, "start");
      await killServiceDuring([`kt${ms}`, "stop"], ms);
      usable(`kt${ms}`);
    });

    test(`during exec (after ${ms} ms)`, async () => {
      busyboxGuest(h, `ke${ms}`);
      h.ok(`ke${ms}`, "start");
      await killServiceDuring([`ke${ms}`, "exec", "sleep", "1"], ms);
      h.ok(`ke${ms}`, "stop");
      usable(`ke${ms}`);
    });

    test(`during build (after ${ms} ms)`, async () => {
      await killServiceDuring([`kb${ms}`, "build", "-m", "busybox", "--quiet"], ms);
      // Either the build finished, or it left nothing and a new one succeeds.
      if (h.vserver(`kb${ms}`, "status").code !== 3) h.ok(`kb${ms}`, "build", "-m", "busybox", "--quiet");
      usable(`kb${ms}`);
    });
  }
});

describe("the service killed at each of its named steps (VSERVER_FAULT)", () => {
  // The points are in drivers/fault.ts's list (docs/architecture.md): the supervisor's read the
  // service's own environment, a worker's read the service's until it takes its caller's.
  beforeAll(() => {
    busyboxGuest(h, "sf");
    h.ok("sf", "start");
  });

  /** Services of this root still starting: a client that found none spawned one in the background. */
  function ourDaemons(): number[] {
    return readdirSync("/proc").filter((p) => /^\d+$/.test(p)).map(Number).filter((p) => {
      try {
        return cmdline(p).includes("dist/vserverd.js") && readFileSync(`/proc/${p}/environ`, "latin1").split("\0").includes(`VSERVER_ROOT=${h.root}`);
      } catch {
        return false;
      }
    });
  }

  async function stopService(): Promise<void> {
    // Until none is left: one a client spawned may take the lock only after the first --stop.
    for (let i = 0; i < 50; i++) {
      h.run("vserverd", ["--stop"]);
      await until(() => servicePid() === undefined);
      await Bun.sleep(100);
      if (servicePid() === undefined && ourDaemons().length === 0) return;
    }
    throw new Error("the service of this root does not stay stopped");
  }

  /**
   * A service with a fault armed that holds this root's lock. One a client was still starting may
   * take the lock first; ours then leaves quietly (exit 0, as a second service does): stop and retry.
   */
  async function serviceWith(fault: string) {
    for (let i = 0; ; i++) {
      const p = Bun.spawn([`${BIN}/vserverd`], { env: { ...h.env, VSERVER_FAULT: fault }, stdout: "ignore", stderr: "pipe" });
      while (p.exitCode === null && p.signalCode === null && servicePid() !== p.pid) await Bun.sleep(10);
      if (i >= 5 || !(p.exitCode === 0 && servicePid() !== p.pid)) return p;
      await stopService();
    }
  }

  /** Run `vserver sf exec echo ok`; say whether the service ran it (its journal line names the PID that did). */
  async function execOk(env: Record<string, string> = {}): Promise<{ code: number; stderr: string; served: boolean }> {
    const p = Bun.spawn([`${BIN}/vserver`, "sf", "exec", "echo", "ok"], { env: { ...h.env, ...env }, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(out).toBe("ok\n");
    const last = readFileSync(`${h.logDir}/events.log`, "utf8").trim().split("\n").reverse().map((l) => JSON.parse(l)).find((e) => e.op === "exec" && e.guest === "sf");
    // A direct run is the client's own process (it execs the runtime); a served one is a worker.
    return { code, stderr: err, served: last.pid !== p.pid };
  }

  /** Whatever happened, the next calls work and are served by a service the client started again. */
  async function recovered(): Promise<void> {
    const first = await execOk();
    expect(first.code).toBe(0);
    await until(serviceUp);
    const next = await execOk();
    expect(next.code).toBe(0);
    expect(next.served).toBe(true);
  }

  for (const point of ["service.after-lock", "service.after-listen"]) {
    test(`the supervisor killed at ${point}: the next command runs directly and starts it again`, async () => {
      await stopService();
      const p = await serviceWith(`${point}:kill`);
      await p.exited;
      expect(p.signalCode).toBe("SIGKILL");
      // Its lock names a dead process, and after-listen left a socket nobody listens on.
      expect(servicePid()).toBeUndefined();
      expect(existsSync(socket())).toBe(point === "service.after-listen");
      const r = await execOk();
      expect(r.code).toBe(0);
      expect(r.served).toBe(false);
      await recovered();
    });
  }

  test("a service that cannot make its socket (full disk) says so naming it, and holds nothing", async () => {
    await stopService();
    const p = await serviceWith("service.after-lock:enospc");
    const err = await new Response(p.stderr).text();
    expect(await p.exited).not.toBe(0);
    expect(err).toContain(`no space left on device, write '${socket()}'`);
    expect(err.trim().split("\n").length).toBe(1);
    expect(existsSync(`${h.root}/run/vservers/.service/service.lock`)).toBe(false);
    expect(existsSync(socket())).toBe(false);
    await recovered();
  });

  test("a worker killed when it took the connection: the client runs the command itself", async () => {
    await stopService();
    const p = await serviceWith("service.accepted:kill");
    try {
      // A whole service starting (its workers too) on a loaded machine: more than a command's wait.
      await until(serviceUp, 30000);
      for (let i = 0; i < 3; i++) {
        const r = await execOk();
        expect(r.code).toBe(0);
        expect(r.stderr).toBe("");
        expect(r.served).toBe(false);
      }
    } finally {
      await stopService();
      await p.exited;
    }
    await recovered();
  });

  test("a worker killed after it took the caller's environment, before the command: the client runs it itself", async () => {
    await recovered();
    const r = await execOk({ VSERVER_FAULT: "service.before-command:kill" });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.served).toBe(false);
    await recovered();
  });

  test("a worker killed after the command, before its exit status: the client says so plainly", async () => {
    await recovered();
    const r = await execOk({ VSERVER_FAULT: "service.after-command:kill" });
    // The command ran (its output came), but its status is lost: not 0, and one sentence why.
    expect(r.served).toBe(true);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^vserver: the host service's worker died before it reported the command's exit status; .*\n$/);
    await recovered();
  });
});

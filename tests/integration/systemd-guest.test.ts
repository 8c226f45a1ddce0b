// A Debian guest whose own init is systemd (init style `plain`, systemd-sysv's /sbin/init), from
// the debootstrap cache of tests/helpers/debian.ts: it boots to a
// running (or degraded) system, `exec systemctl` talks to it, `stop` halts it the way systemd
// expects (SIGRTMIN+3, no kill sequence needed), and its own `reboot` restarts it through the
// kernel's reboot watch. Its cgroup rights are its own name=systemd subtree and nothing more.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { TestHost } from "../helpers/host";
import { debianGuest } from "../helpers/debian";

const h = new TestHost("sdpid1");
const NAME = "sd";

beforeAll(() => {
  debianGuest(h, NAME, { include: ["systemd-sysv"], buildArgs: ["--initstyle", "plain"] });
  // reboot(2) in its own PID namespace is how systemd ends a container it reboots; SETPCAP lets
  // it narrow its units' bounding sets.
  writeFileSync(`${h.cfg(NAME)}/bcapabilities`, "SYS_BOOT\nSETPCAP\n");
}, 1_800_000);

afterAll(() => h.cleanup());

interface Rec { pid: number; cgroupPath: string; haltSignal?: number }
function record(): Rec | undefined {
  try {
    return JSON.parse(readFileSync(`${h.runDir}/${NAME}`, "utf8"));
  } catch {
    return undefined;
  }
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));

async function until(cond: () => boolean, seconds: number): Promise<boolean> {
  const end = Date.now() + seconds * 1000;
  while (!cond()) {
    if (Date.now() > end) return false;
    await Bun.sleep(250);
  }
  return true;
}

/** systemd's own word on its boot: running, or degraded (a unit that needs what a guest lacks). */
function systemState(): string {
  return h.inGuest(NAME, "systemctl", "is-system-running").stdout.trim();
}
const booted = () => ["running", "degraded"].includes(systemState());

function journal(): Array<Record<string, unknown>> {
  return readFileSync(`${h.logDir}/events.log`, "utf8").trim().split("\n").map((l) => JSON.parse(l));
}

describe("systemd as a plain guest's PID 1", () => {
  test("boots to a running system; exec talks to it; its cgroup rights end at its own subtree", async () => {
    h.ok(NAME, "start");
    const rec = record()!;
    expect(rec.haltSignal).toBe(37);
    expect(await until(booted, 120)).toBe(true);
    expect(h.inGuest(NAME, "cat", "/proc/1/comm").stdout.trim()).toBe("systemd");
    const status = h.vserver(NAME, "exec", "systemctl", "status");
    expect(status.stdout).toMatch(/State: (running|degraded)/);
    // Its journal runs: SETPCAP lets systemd narrow journald's bounding set, and the seccomp
    // profile answers the persona query of its LockPersonality=, while a persona without
    // address randomisation is still refused.
    expect(h.inGuest(NAME, "systemctl", "is-active", "systemd-journald").stdout.trim()).toBe("active");
    expect(h.inGuest(NAME, "journalctl", "--no-pager", "-b").stdout).toContain("Startup finished");
    expect(h.inGuest(NAME, "setarch", "x86_64", "-R", "/bin/true").code).not.toBe(0);
    expect(h.inGuest(NAME, "setarch", "x86_64", "/bin/true").code).toBe(0);
    // systemd made its units' cgroups below the guest's, seen from the host.
    const own = `/sys/fs/cgroup/systemd${rec.cgroupPath}`;
    expect(existsSync(`${own}/init.scope`)).toBe(true);
    expect(existsSync(`${own}/system.slice/systemd-journald.service`)).toBe(true);
    expect(statSync(own).uid).not.toBe(0);
    expect(statSync(`/sys/fs/cgroup/systemd/${h.cgroupParent}`).uid).toBe(0);
    // From inside: its own name=systemd tree is writable, the controllers' limits are not, and
    // nothing above its own cgroup is in view.
    expect(h.inGuest(NAME, "sh", "-c", "mkdir /sys/fs/cgroup/systemd/probe && rmdir /sys/fs/cgroup/systemd/probe").code).toBe(0);
    expect(h.inGuest(NAME, "sh", "-c", "echo 1 > /sys/fs/cgroup/memory/memory.limit_in_bytes").code).not.toBe(0);
    expect(h.inGuest(NAME, "sh", "-c", "mkdir /sys/fs/cgroup/pids/probe").code).not.toBe(0);
    expect(h.inGuest(NAME, "sh", "-c", "echo 1 > /proc/sys/kernel/sysrq").code).not.toBe(0);
    expect(h.inGuest(NAME, "sh", "-c", "ls /sys/fs/cgroup/systemd/release_agent /sys/fs/cgroup/systemd/../systemd/release_agent").code).not.toBe(0);
    expect(h.inGuest(NAME, "grep", "name=systemd", "/proc/1/cgroup").stdout.trim()).toMatch(/:name=systemd:\/init\.scope$/);
  }, 300_000);

  test("stop halts it with SIGRTMIN+3: systemd ends by itself, well within the stop timeout, and nothing is left", async () => {
    if (!record() || !alive(record()!.pid)) {
      h.ok(NAME, "start");
      expect(await until(booted, 120)).toBe(true);
    }
    const { pid, cgroupPath } = record()!;
    const t0 = Date.now();
    h.ok(NAME, "stop");
    expect(Date.now() - t0).toBeLessThan(25_000);
    expect(alive(pid)).toBe(false);
    expect(h.vserver(NAME, "running").code).toBe(1);
    const log = readFileSync(`${h.logDir}/${NAME}.log`, "utf8");
    expect(log).toContain("=== asking the guest's init to halt (signal 37)");
    // Well within the 30 s the halt is given: systemd ended by itself, not by the kill sequence.
    expect(existsSync(`/sys/fs/cgroup/systemd${cgroupPath}`)).toBe(false);
  }, 300_000);

  test("reboot inside restarts it: a new PID 1 that boots again, journalled as a reboot", async () => {
    h.ok(NAME, "start");
    expect(await until(booted, 120)).toBe(true);
    const before = record()!.pid;
    // systemd ends every process at shutdown, the asking command too if it is still there.
    expect([0, 143]).toContain(h.inGuest(NAME, "reboot").code);
    expect(await until(() => !alive(before), 60)).toBe(true);
    // The next look (or the host service's own watch) sees the reboot and starts the guest again.
    h.vserver(NAME, "running");
    expect(await until(() => { const r = record(); return !!r && r.pid !== before && alive(r.pid); }, 60)).toBe(true);
    const exits = journal().filter((e) => e.op === "exit" && e.guest === NAME);
    expect(exits.at(-1)!.how).toBe("reboot");
    expect(await until(() => journal().some((e) => e.op === "start" && e.guest === NAME && e.after === "reboot" && e.ok === true), 30)).toBe(true);
    expect(await until(booted, 120)).toBe(true);
    h.ok(NAME, "stop");
    expect(h.vserver(NAME, "running").code).toBe(1);
  }, 300_000);
});

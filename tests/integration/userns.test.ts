// A guest's root is not the host's root: each guest runs in its own user namespace with its own
// range of host ids, its files keep their usual owners, and the directory of guest roots is closed
// to host users (the barrier), so a setuid program a guest plants gives a host user nothing.
// Each claim is also shown to fail against a weakened setup (a privileged guest, an open barrier).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { REPO, TestHost, busyboxGuest, compileStatic } from "../helpers/host";
import { guestIdRange } from "../../src/pure/id-range";

const h = new TestHost("userns");
const USER = `vstb${Math.random().toString(36).slice(2, 8)}`;
const SHARED = `${h.root}/shared`;
const PLANT = `${h.root}/plant`;
const MARKER = `${h.root}/etc-written-by-planted`;
let userMade = false;

function pid1(name: string): number {
  return JSON.parse(readFileSync(`${h.runDir}/${name}`, "utf8")).pid;
}

function hostUid(pid: number): number {
  return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
}

function uidMap(name: string): number[] {
  return h.inGuest(name, "cat", "/proc/self/uid_map").stdout.trim().split(/\s+/).map(Number);
}

/**
 * Run a program as the test's ordinary host user, through su: setpriv would keep root's
 * capabilities until the execve, whose path lookup would then pass the barrier.
 */
function asUser(argv: string[]) {
  const r = Bun.spawnSync(["su", "-s", "/bin/sh", USER, "-c", 'exec "$0" "$@"', ...argv], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString() + r.stderr.toString() };
}

beforeAll(() => {
  const u = Bun.spawnSync(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", USER], { stderr: "pipe" });
  if (u.exitCode !== 0) throw new Error(`useradd: ${u.stderr}`);
  userMade = true;
  writeFileSync(`${h.root}/plant.c`, '#include <stdio.h>\n#include <fcntl.h>\n#include <unistd.h>\nint main(int c, char **v) { printf("euid=%d\\n", geteuid()); if (c > 1) printf("write=%s\\n", open(v[1], O_WRONLY | O_CREAT, 0644) >= 0 ? "ok" : "refused"); return 0; }\n');
  compileStatic(`${h.root}/plant.c`, PLANT);
  mkdirSync(SHARED, { mode: 0o755 });
  writeFileSync(`${SHARED}/from-host`, "host file\n", { mode: 0o644 });

  busyboxGuest(h, "u1", { context: "41000\n", fstab: `none /proc proc defaults 0 0\nnone /tmp tmpfs size=16m,mode=1777 0 0\nnone /dev/pts devpts gid=5,mode=620 0 0\n${SHARED} /mnt/shared none bind 0 0\n` });
  busyboxGuest(h, "u2", { context: "41001\n" });
  busyboxGuest(h, "priv", { context: "41002\n", "security/privileged": "" });
  busyboxGuest(h, "ns", { context: "41003\n", "interfaces/mode": "none\n" });
  // NET_ADMIN given: over a namespace of its own (spaces/net), and on the host's stack.
  busyboxGuest(h, "na", { context: "41004\n", bcapabilities: "NET_ADMIN\n", "spaces/net": "" });
  busyboxGuest(h, "nh", { context: "41005\n", bcapabilities: "NET_ADMIN\n" });
  for (const g of ["u1", "u2", "priv", "ns", "na", "nh"]) h.ok(g, "start");
});

afterAll(() => {
  try {
    h.cleanup();
  } finally {
    if (userMade) Bun.spawnSync(["userdel", USER]);
  }
});

describe("user namespaces", () => {
  test("a guest's root is its own range's first id on the host, and its processes stay in that range", () => {
    const r = guestIdRange(41000);
    expect(uidMap("u1")).toEqual([0, r.base, r.count]);
    expect(hostUid(pid1("u1"))).toBe(r.base);
    // A guest user's process is the host's base + its uid.
    const p = Bun.spawn([`${REPO}/bin/vserver`, "u1", "suexec", "1000", "sleep", "30"], { env: h.env, stdio: ["ignore", "ignore", "ignore"] });
    try {
      let uids: number[] = [];
      for (let i = 0; i < 50 && !uids.length; i++) {
        Bun.sleepSync(100);
        uids = guestProcs(41000).filter((pid) => readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "sleep").map(hostUid);
      }
      expect(uids).toEqual([r.base + 1000]);
    } finally {
      p.kill("SIGKILL");
    }
  });

  test("two guests' ranges are disjoint", () => {
    const [, a, an] = uidMap("u1");
    const [, b, bn] = uidMap("u2");
    expect(a! + an! <= b! || b! + bn! <= a!).toBe(true);
    expect(hostUid(pid1("u1"))).not.toBe(hostUid(pid1("u2")));
  });

  test("files keep their usual owners: inside the guest, and on disk (idmapped), also those the guest makes", () => {
    expect(h.inGuest("u1", "stat", "-c", "%u:%g", "/etc/passwd").stdout.trim()).toBe("0:0");
    h.ok("u1", "exec", "sh", "-c", "echo made > /root/made && mkdir -p /home/user && chown 1000:1000 /home/user");
    const made = statSync(`${h.vdir("u1")}/root/made`);
    expect([made.uid, made.gid]).toEqual([0, 0]);
    expect(statSync(`${h.vdir("u1")}/home/user`).uid).toBe(1000);
    expect(h.inGuest("u1", "stat", "-c", "%u", "/home/user").stdout.trim()).toBe("1000");
  });

  test("a host directory bound by fstab is readable and writable as guest root expects", () => {
    expect(h.inGuest("u1", "cat", "/mnt/shared/from-host").stdout).toBe("host file\n");
    expect(h.inGuest("u1", "stat", "-c", "%u", "/mnt/shared/from-host").stdout.trim()).toBe("0");
    h.ok("u1", "exec", "sh", "-c", "echo guest > /mnt/shared/from-guest");
    expect(statSync(`${SHARED}/from-guest`).uid).toBe(0);
  });

  test("guest root cannot touch what belongs to the host's root: the host's /dev/null it holds", () => {
    const r = h.inGuest("u1", "sh", "-c", "chmod 600 /proc/self/fd/0; echo status=$?");
    expect(r.stdout).toContain("status=1");
    expect(statSync("/dev/null").mode & 0o777).toBe(0o666);
  });

  test("guest root binds ports below 1024 in a network namespace of ours, and on its own loopback on the host's stack", () => {
    const bind80 = "nc -l -p 80 & p=$!; sleep 0.5; if kill $p 2>/dev/null; then echo bound; else echo refused; fi";
    expect(h.inGuest("ns", "sh", "-c", bind80).stdout.trim()).toBe("bound");
    expect(h.inGuest("ns", "ls", "/sys/class/net").stdout.split(/\s+/).filter(Boolean)).toEqual(["lo"]);
    // On the host's stack the bind programs lift the host's check (network-host-stack.test.ts
    // shows a guest without NET_BIND_SERVICE refused). Its own loopback only: no host port is taken.
    const bindLo = "nc -l -p 80 127.0.0.1 & p=$!; sleep 0.5; if kill $p 2>/dev/null; then echo bound; else echo refused; fi";
    expect(h.inGuest("u2", "sh", "-c", bindLo).stdout.trim()).toBe("bound");
  });

  test("NET_ADMIN, where a guest is given it, reaches its own network namespace only", () => {
    const hostLo = Bun.spawnSync(["ip", "-o", "addr", "show", "dev", "lo"]).stdout.toString();
    // Its own namespace (spaces/net: made inside its user namespace): its links are its to change.
    const own = h.inGuest("na", "sh", "-c", "ip addr add 198.18.99.4/32 dev lo && ip -o addr show dev lo");
    expect(own.code).toBe(0);
    expect(own.stdout).toContain("198.18.99.4/32");
    // The host's stack belongs to the host's user namespace: the capability means nothing there.
    const host = h.inGuest("nh", "ip", "addr", "add", "198.18.99.5/32", "dev", "lo");
    expect(host.code).not.toBe(0);
    expect(host.stderr).toMatch(/Operation not permitted/);
    // ... though it holds it (CAP_NET_ADMIN is bit 12): the refusal is the namespace's.
    const eff = /CapEff:\s+([0-9a-f]+)/.exec(h.inGuest("nh", "cat", "/proc/self/status").stdout)![1]!;
    expect((BigInt(`0x${eff}`) >> 12n) & 1n).toBe(1n);
    expect(Bun.spawnSync(["ip", "-o", "addr", "show", "dev", "lo"]).stdout.toString()).toBe(hostLo);
  });

  test("security/privileged opts out: no user namespace, guest root is the host's root", () => {
    expect(uidMap("priv")).toEqual([0, 0, 4294967295]);
    expect(hostUid(pid1("priv"))).toBe(0);
  });
});

describe("a state root that other users cannot reach", () => {
  test("start names the directory that keeps the guest's id out, and leaves nothing; a privileged guest starts", () => {
    const outer = mkdtempSync("/tmp/vserver-test-outer-"); // 0700, as mktemp -d makes it
    const inner = new TestHost("nopass", { within: outer });
    try {
      busyboxGuest(inner, "np");
      const r = inner.vserver("np", "start");
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`its id cannot pass through '${outer}' (mode 0700)`);
      expect(inner.vserver("np", "status").stdout).toContain("is stopped");
      expect(inner.leftovers()).toEqual([]);
      mkdirSync(`${inner.cfg("np")}/security`, { recursive: true });
      writeFileSync(`${inner.cfg("np")}/security/privileged`, "");
      inner.ok("np", "start");
      inner.ok("np", "stop");
      // With the way through opened, the same guest starts in its user namespace.
      rmSync(`${inner.cfg("np")}/security/privileged`);
      chmodSync(outer, 0o711);
      inner.ok("np", "start");
      inner.ok("np", "stop");
    } finally {
      inner.cleanup();
      rmSync(outer, { recursive: true, force: true });
    }
  });
});

describe("the barrier", () => {
  test("build closes the directory of guest roots (mode 0000)", () => {
    expect(statSync(`${h.root}/vservers`).mode & 0o7777).toBe(0);
  });

  test("a setuid-root program planted by guest root gives a host user nothing", () => {
    writeFileSync(`${h.vdir("u1")}/plant`, readFileSync(PLANT), { mode: 0o755 });
    h.ok("u1", "exec", "sh", "-c", "mkdir -p /var/x && cp /plant /var/x/s && chmod 4755 /var/x/s");
    const planted = `${h.vdir("u1")}/var/x/s`;
    // Stored as the guest sees it: owned by 0, setuid. Only the barrier stands between it and a host user.
    expect(statSync(planted).uid).toBe(0);
    expect(statSync(planted).mode & 0o7777).toBe(0o4755);
    const blocked = asUser([planted, MARKER]);
    expect(blocked.out).not.toContain("euid=");
    expect(existsSync(MARKER)).toBe(false);
  });

  test("with the barrier open, the same program runs as root: the check is real; start closes it again with a warning", () => {
    const planted = `${h.vdir("u1")}/var/x/s`;
    chmodSync(`${h.root}/vservers`, 0o755);
    try {
      const open = asUser([planted, MARKER]);
      expect(open.out).toContain("euid=0");
    } finally {
      h.ok("u2", "stop");
      const r = h.ok("u2", "start");
      expect(r.stderr).toMatch(/vservers was mode 0755: closed again \(mode 0000\)/);
    }
    expect(statSync(`${h.root}/vservers`).mode & 0o7777).toBe(0);
  });
});

/** Host PIDs of a guest's processes, from its pids cgroup. */
function guestProcs(context: number): number[] {
  return readFileSync(`/sys/fs/cgroup/pids/${h.cgroupParent}/${context}/cgroup.procs`, "utf8").split("\n").filter(Boolean).map(Number);
}

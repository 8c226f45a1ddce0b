// chbind against the real kernel: a command's sockets, seen from outside (ss, peers of servers
// run by this test), with and without chbind, so that a test cannot pass because the probe was
// broken. Loopback addresses only. Every chbind-* cgroup, process and file made here is removed
// in afterAll, even when a test failed.

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { TestHost, BIN, REPO, compileStatic } from "../helpers/host";

const h = new TestHost("chbind");
const PY = "/usr/bin/python3";
const CG = `/sys/fs/cgroup/unified/${h.cgroupParent}`;
const started: Array<{ kill: (s?: number | NodeJS.Signals) => void }> = [];
const BASE = 42000 + Math.floor(Math.random() * 5000) * 4;

// probe.py: runs socket calls given as JSON and prints one result per call: the local address a
// bind got, the source the server saw, or the errno name.
const PROBE = `${h.root}/probe.py`;
writeFileSync(PROBE, `
import json, socket, sys, errno
out = []
for op in json.loads(sys.argv[1]):
    kind, fam, addr = op[0], socket.AF_INET6 if ":" in op[1] else socket.AF_INET, (op[1], op[2])
    try:
        if kind == "bind":
            s = socket.socket(fam); s.bind(addr); out.append(s.getsockname()[0])
        elif kind == "connect":
            s = socket.socket(fam); s.settimeout(5); s.connect(addr); out.append(s.recv(100).decode())
        elif kind == "udp":
            s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(5); s.sendto(b"x", addr); out.append(s.recv(100).decode())
        elif kind == "packet":
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); out.append("ok")
        s.close()
    except OSError as e:
        out.append(errno.errorcode.get(e.errno, str(e)))
print(json.dumps(out))
`);

// listen.py: listens on ADDR PORT, prints the address it got, answers every connection with the peer's address.
const LISTEN = `${h.root}/listen.py`;
writeFileSync(LISTEN, `
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam); s.bind((sys.argv[1], int(sys.argv[2]))); s.listen()
print(s.getsockname()[0], flush=True)
s.settimeout(60)
while True:
    c, a = s.accept(); c.send(a[0].encode()); c.close()
`);

function chbindArgs(ips: string[], cmd: string[]): string[] {
  return [`${BIN}/chbind`, "--silent", ...ips.flatMap((i) => ["--ip", i]), "--", ...cmd];
}

/** Async, so that the servers below (in this process) can answer while it runs. */
async function probe(ops: Array<[string, string, number]>, ips?: string[]): Promise<string[]> {
  const cmd = [PY, PROBE, JSON.stringify(ops)];
  const p = Bun.spawn(ips ? chbindArgs(ips, cmd) : cmd, { env: h.env, stdout: "pipe", stderr: "pipe", timeout: 60_000, killSignal: "SIGKILL" });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`probe exited ${code}: ${err}`);
  return JSON.parse(out);
}

function chbindDirs(): string[] {
  try {
    return readdirSync(CG).filter((n) => n.startsWith("chbind-"));
  } catch {
    return [];
  }
}

function procsOf(dir: string): number[] {
  try {
    return readFileSync(`${CG}/${dir}/cgroup.procs`, "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function listening(port: number): string[] {
  const r = Bun.spawnSync(["ss", "-ltnH", `sport = :${port}`], { stdout: "pipe", timeout: 10_000 });
  return r.stdout.toString().split("\n").filter(Boolean).map((l) => l.trim().split(/\s+/)[3]!);
}

async function firstLine(p: ReturnType<typeof Bun.spawn>): Promise<string> {
  const reader = (p.stdout as ReadableStream<Uint8Array>).getReader();
  let buf = "";
  const deadline = Date.now() + 30_000;
  while (!buf.includes("\n") && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return buf.split("\n")[0]!;
}

/** Servers outside any chbind cgroup that answer with the peer address they see. */
const servers = {
  tcp4: Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open(s) { s.end(s.remoteAddress); }, data() {} } }),
  tcp6: Bun.listen({ hostname: "::1", port: 0, socket: { open(s) { s.end(s.remoteAddress); }, data() {} } }),
  udp4: await Bun.udpSocket({ hostname: "127.0.0.1", socket: { data(sock, _buf, port, addr) { sock.send(addr, port, addr); }, error() {} } }),
};

afterAll(() => {
  for (const p of started) {
    try {
      p.kill("SIGKILL");
    } catch {}
  }
  servers.tcp4.stop(true);
  servers.tcp6.stop(true);
  servers.udp4.close();
  // Processes a failed test left in our cgroups were started by this test: end them, then the dirs.
  for (const d of chbindDirs()) {
    for (const pid of procsOf(d)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
  }
  Bun.sleepSync(200);
  for (const d of chbindDirs()) {
    try {
      rmdirSync(`${CG}/${d}`);
    } catch {}
  }
  try {
    rmdirSync(CG);
  } catch {}
  h.cleanup();
});

describe("chbind --ip 127.0.0.77", () => {
  test("a listener on 0.0.0.0 is bound to 127.0.0.77 only", async () => {
    const port = BASE;
    // Control: the same listener outside chbind takes every address.
    const plain = Bun.spawn([PY, LISTEN, "0.0.0.0", String(port)], { stdout: "pipe", stderr: "pipe" });
    started.push(plain);
    expect(await firstLine(plain)).toBe("0.0.0.0");
    expect(listening(port)).toEqual([`0.0.0.0:${port}`]);
    plain.kill("SIGKILL");
    await plain.exited;

    const bound = Bun.spawn(chbindArgs(["127.0.0.77"], [PY, LISTEN, "0.0.0.0", String(port + 1)]), { env: h.env, stdout: "pipe", stderr: "pipe" });
    started.push(bound);
    expect(await firstLine(bound)).toBe("127.0.0.77");
    expect(listening(port + 1)).toEqual([`127.0.0.77:${port + 1}`]);
    // From outside: reachable on 127.0.0.77, not on 127.0.0.1.
    expect(await probe([["connect", "127.0.0.77", port + 1], ["connect", "127.0.0.1", port + 1]])).toEqual(["127.0.0.1", "ECONNREFUSED"]);
    bound.kill("SIGTERM");
    expect(await bound.exited).toBe(128 + 15);
    expect(chbindDirs()).toEqual([]);
  });

  test("binds to 127.0.0.1 or another address fail; :: becomes ::ffff:127.0.0.77, ::1 fails", async () => {
    const ops: Array<[string, string, number]> = [
      ["bind", "127.0.0.1", 0], ["bind", "127.0.0.78", 0], ["bind", "127.0.0.77", 0], ["bind", "::", 0], ["bind", "::1", 0],
    ];
    expect(await probe(ops)).toEqual(["127.0.0.1", "127.0.0.78", "127.0.0.77", "::", "::1"]);
    expect(await probe(ops, ["127.0.0.77"])).toEqual(["EPERM", "EPERM", "127.0.0.77", "::ffff:127.0.0.77", "EPERM"]);
  });

  test("connections and UDP sends leave from 127.0.0.77; native IPv6 is refused", async () => {
    const ops: Array<[string, string, number]> = [
      ["connect", "127.0.0.1", servers.tcp4.port],
      ["connect", "::ffff:127.0.0.1", servers.tcp4.port],
      ["udp", "127.0.0.1", servers.udp4.port],
      ["connect", "::1", servers.tcp6.port],
    ];
    expect(await probe(ops)).toEqual(["127.0.0.1", "127.0.0.1", "127.0.0.1", "::1"]);
    expect(await probe(ops, ["127.0.0.77"])).toEqual(["127.0.0.77", "127.0.0.77", "127.0.0.77", "EPERM"]);
  });

  test("the command has no CAP_NET_RAW, so packet sockets (which bypass the hooks) are refused", async () => {
    expect(await probe([["packet", "", 0]])).toEqual(["ok"]);
    expect(await probe([["packet", "", 0]], ["127.0.0.77"])).toEqual(["EPERM"]);
  });
});

describe("chbind with several addresses and IPv6", () => {
  test("--ip ::1 only: :: gets ::1, IPv4 cannot be used", async () => {
    const ops: Array<[string, string, number]> = [["bind", "::", 0], ["bind", "0.0.0.0", 0], ["connect", "127.0.0.1", servers.tcp4.port], ["connect", "::1", servers.tcp6.port]];
    expect(await probe(ops, ["::1"])).toEqual(["::1", "EPERM", "EPERM", "::1"]);
  });

  test(":: on a v6-only socket gets the first IPv6 address, on a dual-stack one the first address given", () => {
    const bin = compileStatic(`${REPO}/tests/helpers/bind-probe.c`, `${h.root}/bind-probe`);
    const pair = ["tcp", "0.0.0.0", "0", "tcp6only", "::", "0", "udp6only", "::", "0", "tcp", "::", "0", "udp", "::", "0"];
    const run = (ips: string[]) => Bun.spawnSync(ips.length ? chbindArgs(ips, [bin, ...pair]) : [bin, ...pair], { env: h.env, stdout: "pipe", timeout: 60_000 }).stdout.toString();
    expect(run([])).toBe("0.0.0.0\n::\n::\n::\n::\n");
    expect(run(["127.0.0.77", "::1"])).toBe("127.0.0.77\n::1\n::1\n::ffff:127.0.0.77\n::ffff:127.0.0.77\n");
    expect(run(["::1", "127.0.0.77"])).toBe("127.0.0.77\n::1\n::1\n::1\n::1\n");
    expect(run(["127.0.0.77"])).toBe("127.0.0.77\nInvalid argument\nInvalid argument\n::ffff:127.0.0.77\n::ffff:127.0.0.77\n");
  });

  test("each given address may be bound; wildcards get the first of their family", async () => {
    const ops: Array<[string, string, number]> = [["bind", "127.0.0.78", 0], ["bind", "127.0.0.77", 0], ["bind", "0.0.0.0", 0], ["bind", "::", 0], ["bind", "127.0.0.79", 0]];
    expect(await probe(ops, ["127.0.0.78", "127.0.0.77"])).toEqual(["127.0.0.78", "127.0.0.77", "127.0.0.78", "::ffff:127.0.0.78", "EPERM"]);
    expect(await probe([["bind", "::", 0], ["bind", "0.0.0.0", 0]], ["::1", "127.0.0.77"])).toEqual(["::1", "127.0.0.77"]);
  });
});

describe("exit status and cleanup", () => {
  test("the exit status passes through, a signal as 128+N, and nothing is left", async () => {
    const run = (cmd: string) => Bun.spawnSync(chbindArgs(["127.0.0.77"], ["/bin/sh", "-c", cmd]), { env: h.env, stdout: "pipe", stderr: "pipe", timeout: 60_000 });
    expect(run("exit 7").exitCode).toBe(7);
    expect(chbindDirs()).toEqual([]);
    expect(run("kill -KILL $$").exitCode).toBe(137);
    expect(chbindDirs()).toEqual([]);
    expect(run("exit 0").exitCode).toBe(0);
    expect(existsSync(CG)).toBe(false);
  });

  test("prints the addresses unless --silent; bad arguments are refused before anything is made", async () => {
    const loud = h.run("chbind", ["--ip", "127.0.0.77", "--ip", "::1/128", "--", "true"]);
    expect(loud.code).toBe(0);
    expect(loud.stderr).toBe("Bound to 127.0.0.77 ::1\n");
    const bad = h.run("chbind", ["--ip", "10.0.0.300", "--", "true"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("chbind: --ip: '10.0.0.300' is not an IPv4 or IPv6 address.\n");
    expect(h.run("chbind", ["--", "true"]).code).toBe(2);
    const nodev = h.run("chbind", ["--ip", "vstnodev0", "--", "true"]);
    expect(nodev.code).toBe(2);
    expect(nodev.stderr).toBe("chbind: --ip: 'vstnodev0' is neither an address nor a network device of this host.\n");
    expect(existsSync(CG)).toBe(false);
  });

  test("--ip DEVICE (util-vserver's --ip eth0) stands for that device's addresses", async () => {
    const loud = h.run("chbind", ["--ip", "lo", "--", "true"]);
    expect(loud.code).toBe(0);
    expect(loud.stderr).toBe("Bound to 127.0.0.1 ::1\n");
    expect(await probe([["bind", "0.0.0.0", 0], ["bind", "::", 0], ["bind", "127.0.0.77", 0]], ["lo"])).toEqual(["127.0.0.1", "::ffff:127.0.0.1", "EPERM"]);
  });

  test("after kill -9 of chbind, the next chbind removes the leftover once it is empty, and not before", async () => {
    const p = Bun.spawn(chbindArgs(["127.0.0.77"], [PY, LISTEN, "0.0.0.0", String(BASE + 2)]), { env: h.env, stdout: "pipe", stderr: "pipe" });
    started.push(p);
    expect(await firstLine(p)).toBe("127.0.0.77");
    // chbind names its directory by its own pid: the client's when it runs directly, the
    // service worker's when the host service runs it. That process is the one to kill.
    const dirs = chbindDirs();
    expect(dirs).toHaveLength(1);
    const dir = dirs[0]!;
    const chbindPid = Number(dir.slice("chbind-".length));
    const inside = procsOf(dir);
    expect(inside.length).toBe(1);
    // Killed in afterAll if the test fails before it does, and only while it is still in our cgroup.
    started.push({ kill: () => procsOf(dir).includes(inside[0]!) && process.kill(inside[0]!, "SIGKILL") });
    process.kill(chbindPid, "SIGKILL");
    await p.exited;
    // The command outlives chbind and keeps its binding: its directory must stay.
    expect(h.run("chbind", ["--silent", "--ip", "127.0.0.77", "--", "true"]).code).toBe(0);
    expect(chbindDirs()).toEqual([dir]);
    expect(listening(BASE + 2)).toEqual([`127.0.0.77:${BASE + 2}`]);
    process.kill(inside[0]!, "SIGKILL");
    for (let i = 0; i < 100 && procsOf(dir).length; i++) await Bun.sleep(20);
    expect(h.run("chbind", ["--silent", "--ip", "127.0.0.77", "--", "true"]).code).toBe(0);
    expect(chbindDirs()).toEqual([]);
    expect(existsSync(CG)).toBe(false);
  });
});

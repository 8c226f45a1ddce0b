// Guests on the host's network stack (no interfaces/): the host's local services, a TCP service
// on 127.0.0.1 and abstract unix sockets, are reachable from the host and not from a guest; each
// guest's 127.0.0.1 is its own; every socket hook does what src/pure/bpf/host-stack-programs.ts
// says, checked against the same calls made without the programs (so no check passes because the
// probe is broken); the programs and their cgroup go with the guest, also after a kill -9 of start.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmdirSync, symlinkSync, writeFileSync } from "node:fs";
import { REPO, TestHost, busyboxGuest, compileStatic } from "../helpers/host";
import { startHostSockets, type HostSockets } from "../helpers/host-sockets";
import { hostStackPrograms, lbackAddress, sharedPrograms } from "../../src/pure/bpf/host-stack-programs";
import { parseBindAddress } from "../../src/pure/bpf/addresses";
import { hostAddresses } from "../../src/drivers/net/ip";
import { socketProgramFacts } from "../../src/drivers/bpf/kernel-btf";
import { createSocketCgroup } from "../../src/drivers/net/socket-cgroup";
import { abstractUnixScopeAvailable } from "../../src/drivers/landlock";

const h = new TestHost("hoststack");
const CG2 = `/sys/fs/cgroup/unified/${h.cgroupParent}`;
const ESC = `${h.root}/escape-bin`;
let hs: HostSockets;

/** The guest's cgroup2 directory, holding its programs while it runs. */
const guestCg = (name: string) => `${CG2}/${JSON.parse(readFileSync(`${h.runDir}/${name}`, "utf8")).context}`;
const lbackOf = (name: string) => Array.from(lbackAddress(JSON.parse(readFileSync(`${h.runDir}/${name}`, "utf8")).context)).join(".");

/** The socket attacks from inside a guest, through the host service or (direct) without it. */
function escapeIn(guest: string, direct = false): string {
  const args = [guest, "exec", "/usr/bin/env", `ESC_LOOPBACK_PORT=${hs.port}`, `ESC_ABSTRACT=${hs.abstract}`, "/escape", "host_loopback", "host_abstract"];
  const r = h.run("vserver", args, direct ? { env: { VSERVER_SERVICE: "off" } } : {});
  if (r.code !== 0) throw new Error(`escape in ${guest}: ${r.stderr}`);
  return r.stdout;
}

function escapeOnHost(): string {
  return Bun.spawnSync([ESC, "host_loopback", "host_abstract"], {
    env: { ...process.env, ESC_LOOPBACK_PORT: String(hs.port), ESC_ABSTRACT: hs.abstract },
  }).stdout.toString();
}

beforeAll(async () => {
  hs = await startHostSockets();
  compileStatic(`${REPO}/tests/escape/escape.c`, ESC);
  for (const g of ["one", "two"]) {
    busyboxGuest(h, g);
    copyFileSync(ESC, `${h.vdir(g)}/escape`);
    chmodSync(`${h.vdir(g)}/escape`, 0o755);
    h.ok(g, "start");
  }
});

afterAll(() => {
  hs?.stop();
  h.cleanup();
});

describe("a guest on the host's stack", () => {
  test("the host's 127.0.0.1 service and abstract sockets: reachable from the host, not from a guest", () => {
    const host = escapeOnHost();
    expect(host).toContain("host_loopback escaped connected to the host's 127.0.0.1");
    expect(host).toContain("host_abstract escaped");
    const guest = escapeIn("one");
    // 127.0.0.1 is the guest's own loopback, where nothing listens: refused, not EPERM.
    expect(guest).toContain(`host_loopback blocked 127.0.0.1:${hs.port}: Connection refused; [::ffff:127.0.0.1]:${hs.port}: Connection refused`);
    expect(guest).toContain(`host_abstract blocked connect @${hs.abstract}: Operation not permitted; sendto @${hs.abstract}-dgram: Operation not permitted`);
  });

  test("a command run directly, not through the host service, starts under the programs too", () => {
    const guest = escapeIn("one", true);
    expect(guest).toContain("host_loopback blocked");
    expect(guest).toContain("host_abstract blocked");
  });

  test("each guest's 127.0.0.1 is its own: the same port in two guests, no way into the other's", () => {
    for (const [g, word] of [["one", "first"], ["two", "second"]]) {
      h.ok(g, "exec", "sh", "-c", `(echo ${word} | nc -l -p 5555 127.0.0.1 >/dev/null 2>&1 &); sleep 0.3`);
    }
    const ss = Bun.spawnSync(["ss", "-ltnH", "sport = :5555"]).stdout.toString();
    expect(ss).toContain(`${lbackOf("one")}:5555`);
    expect(ss).toContain(`${lbackOf("two")}:5555`);
    expect(h.vserver("one", "exec", "nc", "-w", "2", "127.0.0.1", "5555").stdout).toBe("first\n");
    const cross = h.vserver("two", "exec", "nc", "-w", "2", lbackOf("one"), "5555");
    expect(cross.stderr).toContain("Operation not permitted");
    expect(h.vserver("two", "exec", "nc", "-w", "2", "127.0.0.1", "5555").stdout).toBe("second\n");
  });

  test("by default a guest's own processes cannot talk over an abstract socket either (the programs see only the name)", () => {
    expect(h.vserver("one", "exec", "/escape", "abstract-self").stdout).toMatch(/^abstract_self blocked .*Operation not permitted/);
  });

  test("security/abstract-sockets scoped: the guest's processes talk over abstract sockets, the host's stay out of reach", () => {
    // Linux 6.12's Landlock scope; this machine has it, and this test says so if it stops having it.
    expect(abstractUnixScopeAvailable()).toBe(true);
    busyboxGuest(h, "scoped", { "security/abstract-sockets": "scoped\n" });
    copyFileSync(ESC, `${h.vdir("scoped")}/escape`);
    chmodSync(`${h.vdir("scoped")}/escape`, 0o755);
    // What the boot scripts start runs in the guest init's domain.
    writeFileSync(`${h.vdir("scoped")}/etc/init.d/probe`, `#!/bin/sh\n[ "$1" = start ] && ESC_ABSTRACT=${hs.abstract} /escape host_abstract > /boot-probe 2>&1\n[ "$1" = start ] && /escape abstract-self >> /boot-probe 2>&1\nexit 0\n`);
    chmodSync(`${h.vdir("scoped")}/etc/init.d/probe`, 0o755);
    symlinkSync("../init.d/probe", `${h.vdir("scoped")}/etc/rc3.d/S30probe`);
    h.ok("scoped", "start");
    expect(readFileSync(`/proc/${JSON.parse(readFileSync(`${h.runDir}/scoped`, "utf8")).pid}/cmdline`, "utf8")).toContain("\0scope-abstract-unix\0");
    const boot = readFileSync(`${h.vdir("scoped")}/boot-probe`, "utf8");
    expect(boot).toContain(`host_abstract blocked connect @${hs.abstract}: Operation not permitted`);
    expect(boot).toContain("abstract_self escaped a child connected");
    // exec, and suexec as another user, go through the same confining step.
    expect(h.vserver("scoped", "exec", "/escape", "abstract-self").stdout).toStartWith("abstract_self escaped a child connected");
    expect(escapeIn("scoped")).toContain(`host_abstract blocked connect @${hs.abstract}: Operation not permitted`);
    const asNobody = h.run("vserver", ["scoped", "suexec", "nobody", "/usr/bin/env", `ESC_ABSTRACT=${hs.abstract}`, "/escape", "host_abstract"]).stdout;
    expect(asNobody).toContain(`host_abstract blocked connect @${hs.abstract}: Operation not permitted`);
    // The 127.0.0.1 rules are the programs', and still hold.
    expect(escapeIn("scoped")).toContain(`host_loopback blocked 127.0.0.1:${hs.port}: Connection refused`);
    h.ok("scoped", "stop");
  });

  test("scoped where not every process could be put in the scope is refused, naming the file, and leaves nothing", () => {
    busyboxGuest(h, "nnp", { "security/abstract-sockets": "scoped\n", "security/allow-new-privileges": "" });
    const r = h.vserver("nnp", "start");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toBe(`vserver: ${h.cfg("nnp")}/security/abstract-sockets: 'scoped' needs no_new_privs, which security/allow-new-privileges turns off.\n`);
    busyboxGuest(h, "plain", { "security/abstract-sockets": "scoped\n", "apps/init/style": "plain\n" });
    expect(h.vserver("plain", "start").stderr).toContain(`${h.cfg("plain")}/security/abstract-sockets: 'scoped' needs the guest init as PID 1`);
    expect(h.vserver("nnp", "status").code).toBe(3);
    expect(existsSync(`${h.runDir}/nnp`)).toBe(false);
  });

  test("stop removes the programs' cgroup; after a kill -9 of start the next start clears the leftover and works", () => {
    const dir = guestCg("two");
    expect(existsSync(dir)).toBe(true);
    h.ok("two", "stop");
    expect(existsSync(dir)).toBe(false);
    mkdirSync(`${h.cfg("two")}/scripts`, { recursive: true });
    writeFileSync(`${h.cfg("two")}/scripts/pre-start`, "#!/bin/sh\nkill -9 $PPID\n", { mode: 0o755 });
    expect(h.vserver("two", "start").code).not.toBe(0);
    expect(existsSync(dir)).toBe(true); // the killed start's leftover, programs attached
    writeFileSync(`${h.cfg("two")}/scripts/pre-start`, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    h.ok("two", "start");
    expect(escapeIn("two")).toContain("host_abstract blocked");
    h.ok("two", "stop");
    expect(existsSync(dir)).toBe(false);
  });
});

// probe.py: every call a hook sees, in this order, printed as JSON (a value or the errno name).
// /proc/net/tcp gives a socket's real local address, which getsockname rewrites back.
const PROBE = `
import json, os, socket, sys, errno
hostport, abstract, lback = int(sys.argv[1]), sys.argv[2], sys.argv[3]
out = {}
def run(name, f):
    try: out[name] = f()
    except OSError as e: out[name] = errno.errorcode.get(e.errno, str(e))
def real4(port):
    for l in open("/proc/net/tcp").read().split("\\n")[1:]:
        f = l.split()
        if len(f) > 3 and int(f[1].split(":")[1], 16) == port and f[3] == "0A":
            h = f[1].split(":")[0]; return ".".join(str(int(h[i:i+2], 16)) for i in (6, 4, 2, 0))
def listener(fam, addr):
    s = socket.socket(fam); s.bind((addr, 0)); s.listen(); return s
def bind4(addr):
    s = listener(socket.AF_INET, addr); p = s.getsockname()
    return [p[0], real4(p[1])]
run("bind4 127.0.0.1", lambda: bind4("127.0.0.1"))
run("bind4 127.0.0.2", lambda: bind4("127.0.0.2"))
run("bind4 0.0.0.0", lambda: bind4("0.0.0.0"))
run("bind6 ::1", lambda: listener(socket.AF_INET6, "::1").getsockname()[0])
run("bind6 ::ffff:127.0.0.1", lambda: listener(socket.AF_INET6, "::ffff:127.0.0.1").getsockname()[0])
def connect(fam, addr, port):
    c = socket.socket(fam); c.settimeout(3); c.connect((addr, port)); return c
run("connect4 host 127.0.0.1", lambda: connect(socket.AF_INET, "127.0.0.1", hostport).recv(100).decode().strip())
run("connect6 host ::ffff:127.0.0.1", lambda: connect(socket.AF_INET6, "::ffff:127.0.0.1", hostport).recv(100).decode().strip())
run("connect6 ::1", lambda: connect(socket.AF_INET6, "::1", hostport) and "connected")
run("connect4 127.0.0.3", lambda: connect(socket.AF_INET, "127.0.0.3", hostport) and "connected")
def own4():
    s = listener(socket.AF_INET, "127.0.0.1"); c = connect(socket.AF_INET, "127.0.0.1", s.getsockname()[1])
    return [c.getpeername()[0], real4(s.getsockname()[1])]
run("connect4 own 127.0.0.1, getpeername4", own4)
def own6():
    s = listener(socket.AF_INET6, "::ffff:127.0.0.1"); c = connect(socket.AF_INET6, "::ffff:127.0.0.1", s.getsockname()[1])
    return c.getpeername()[0]
run("connect6 own, getpeername6", own6)
def udp4():
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(("127.0.0.1", 0))
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.settimeout(3); c.sendto(b"q", ("127.0.0.1", r.getsockname()[1]))
    _, peer = r.recvfrom(10); r.sendto(b"a", peer)
    return c.recvfrom(10)[1][0]
run("sendmsg4 own, recvmsg4", udp4)
def udp6():
    r = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); r.bind(("::ffff:127.0.0.1", 0))
    c = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); c.settimeout(3); c.sendto(b"q", ("::ffff:127.0.0.1", r.getsockname()[1]))
    _, peer = r.recvfrom(10); r.sendto(b"a", peer)
    return c.recvfrom(10)[1][0]
run("sendmsg6 own, recvmsg6", udp6)
run("sendmsg6 ::1", lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b"x", ("::1", 9)))
run("connect_unix abstract", lambda: socket.socket(socket.AF_UNIX).connect("\\0" + abstract) or "connected")
run("sendmsg_unix abstract", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"x", "\\0" + abstract + "-dgram"))
def unix_path():
    p = "/tmp/vst-probe-%d.sock" % os.getpid(); s = socket.socket(socket.AF_UNIX); s.bind(p); s.listen()
    try: socket.socket(socket.AF_UNIX).connect(p); return "connected"
    finally: os.unlink(p)
run("connect_unix path", unix_path)
run("sock_create raw", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) and "created")
print(json.dumps(out))
`;

describe("each hook, against the same calls without the programs", () => {
  const LBACK = "127.1.0.77";
  const dir = `${CG2}/hooks-${process.pid}`;
  let without: Record<string, unknown> = {};
  let withProgs: Record<string, unknown> = {};

  function probe(inside: boolean): Record<string, unknown> {
    const script = `${h.root}/probe.py`;
    writeFileSync(script, PROBE);
    const argv = ["python3", script, String(hs.port), hs.abstract, LBACK];
    const cmd = inside ? ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, ...argv] : argv;
    const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe", timeout: 60_000 });
    if (r.exitCode !== 0) throw new Error(`probe: ${r.stderr}`);
    return JSON.parse(r.stdout.toString());
  }

  beforeAll(() => {
    mkdirSync(CG2, { recursive: true });
    createSocketCgroup(dir, hostStackPrograms(lbackAddress(77), socketProgramFacts().unix));
    try {
      withProgs = probe(true);
    } finally {
      rmdirSync(dir);
    }
    without = probe(false);
  });

  test("bind4 and getsockname4: 127.0.0.1 lands on lback and reads back as 127.0.0.1; other loopback refused", () => {
    expect(without["bind4 127.0.0.1"]).toEqual(["127.0.0.1", "127.0.0.1"]);
    expect(withProgs["bind4 127.0.0.1"]).toEqual(["127.0.0.1", LBACK]);
    expect(without["bind4 127.0.0.2"]).toEqual(["127.0.0.2", "127.0.0.2"]);
    expect(withProgs["bind4 127.0.0.2"]).toBe("EPERM");
    expect(withProgs["bind4 0.0.0.0"]).toEqual(["0.0.0.0", "0.0.0.0"]);
  });

  test("bind6 and getsockname6: ::1 refused, ::ffff:127.0.0.1 reads back as itself", () => {
    expect(without["bind6 ::1"]).toBe("::1");
    expect(withProgs["bind6 ::1"]).toBe("EPERM");
    expect(withProgs["bind6 ::ffff:127.0.0.1"]).toBe("::ffff:127.0.0.1");
  });

  test("connect4 and connect6: the host's 127.0.0.1 service is out of reach, ::1 and other loopback refused", () => {
    expect(without["connect4 host 127.0.0.1"]).toBe("host-loopback");
    expect(withProgs["connect4 host 127.0.0.1"]).toBe("ECONNREFUSED");
    expect(without["connect6 host ::ffff:127.0.0.1"]).toBe("host-loopback");
    expect(withProgs["connect6 host ::ffff:127.0.0.1"]).toBe("ECONNREFUSED");
    expect(withProgs["connect6 ::1"]).toBe("EPERM");
    expect(without["connect6 ::1"]).not.toBe("EPERM");
    expect(withProgs["connect4 127.0.0.3"]).toBe("EPERM");
    expect(without["connect4 127.0.0.3"]).not.toBe("EPERM");
  });

  test("connect to one's own 127.0.0.1 service works; getpeername shows 127.0.0.1", () => {
    expect(withProgs["connect4 own 127.0.0.1, getpeername4"]).toEqual(["127.0.0.1", LBACK]);
    expect(withProgs["connect6 own, getpeername6"]).toBe("::ffff:127.0.0.1");
  });

  test("sendmsg and recvmsg: UDP to one's own 127.0.0.1 works and the reply comes from 127.0.0.1", () => {
    expect(withProgs["sendmsg4 own, recvmsg4"]).toBe("127.0.0.1");
    expect(withProgs["sendmsg6 own, recvmsg6"]).toBe("::ffff:127.0.0.1");
    expect(withProgs["sendmsg6 ::1"]).toBe("EPERM");
    expect(without["sendmsg6 ::1"]).toBe(1);
  });

  test("connect_unix and sendmsg_unix: abstract names refused, paths allowed", () => {
    expect(without["connect_unix abstract"]).toBe("connected");
    expect(withProgs["connect_unix abstract"]).toBe("EPERM");
    expect(without["sendmsg_unix abstract"]).toBe(1);
    expect(withProgs["sendmsg_unix abstract"]).toBe("EPERM");
    expect(withProgs["connect_unix path"]).toBe("connected");
  });

  test("sock_create: no raw inet sockets", () => {
    expect(without["sock_create raw"]).toBe("created");
    expect(withProgs["sock_create raw"]).toBe("EPERM");
  });
});

describe("ports below 1024 for guests whose root's capability does not count (user namespaces)", () => {
  const PORT = 600 + Math.floor(Math.random() * 300);
  const BIND = `
import socket, sys, errno
for a in sys.argv[1:]:
    try:
        s = socket.socket(); s.bind((a, ${PORT})); print(a, "ok")
    except OSError as e: print(a, errno.errorcode.get(e.errno))
`;

  /** Bind the low port in a fresh cgroup with these programs, as root without CAP_NET_BIND_SERVICE. */
  function bindWithout(programs: Parameters<typeof createSocketCgroup>[1], addrs: string[]): string {
    const dir = `${CG2}/low-${process.pid}`;
    mkdirSync(CG2, { recursive: true });
    createSocketCgroup(dir, programs);
    try {
      const argv = ["setpriv", "--bounding-set=-net_bind_service", "--inh-caps=-net_bind_service", "--", "python3", "-c", BIND, ...addrs];
      return Bun.spawnSync(["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, ...argv]).stdout.toString();
    } finally {
      rmdirSync(dir);
    }
  }

  test("a default guest (its own user namespace) binds a port below 1024 on its loopback; one without the capability cannot", () => {
    const listen = (g: string) => h.vserver(g, "exec", "sh", "-c", `nc -l -p ${PORT} 127.0.0.1 >/dev/null 2>&1 & sleep 0.3; netstat -ltn | grep -c ":${PORT} " ; kill $! 2>/dev/null; true`);
    expect(listen("one").stdout.trim()).toBe("1");
    busyboxGuest(h, "nobind", { bcapabilities: "!CAP_NET_BIND_SERVICE\n" });
    h.ok("nobind", "start");
    try {
      expect(listen("nobind").stdout.trim()).toBe("0");
    } finally {
      h.ok("nobind", "stop");
    }
  });

  test("host-stack programs with lowPorts lift the check for the guest's binds, and only with it", () => {
    const lb = lbackAddress(78);
    expect(bindWithout(hostStackPrograms(lb, undefined), ["127.0.0.1"])).toBe("127.0.0.1 EACCES\n");
    expect(bindWithout(hostStackPrograms(lb, undefined, { lowPorts: true }), ["127.0.0.1", "127.0.0.9"])).toBe("127.0.0.1 ok\n127.0.0.9 EPERM\n");
  });

  test("shared-mode programs with lowPorts: the guest's own addresses only", () => {
    // One of the host's own addresses plays the guest's (it must be local to be bound).
    const mine = hostAddresses().find((a) => /^\d/.test(a) && !a.startsWith("127."))!;
    const own = [parseBindAddress(mine)];
    expect(bindWithout(sharedPrograms(own, lbackAddress(79), undefined), [mine])).toBe(`${mine} EACCES\n`);
    expect(bindWithout(sharedPrograms(own, lbackAddress(79), undefined, { lowPorts: true }), [mine, "0.0.0.0", "127.0.0.1", "127.0.0.6"]))
      .toBe(`${mine} ok\n0.0.0.0 ok\n127.0.0.1 ok\n127.0.0.6 EPERM\n`);
  });
});

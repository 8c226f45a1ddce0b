// Shared mode (interfaces/mode shared, util-vserver's ipv4root) on a fake uplink this test makes:
// guests stay on the host's stack, their addresses are labelled aliases on the uplink, binds land
// on their own addresses, outgoing TCP and UDP leave from them, two guests serve one port, the
// host's 127.0.0.1 stays out of reach, and addresses and programs go at stop and after a killed
// start. The host's abstract sockets stay out of reach. A chbind'ed host command serves the same
// port beside them. Benchmarking ranges only.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { BIN, REPO, TestHost, busyboxGuest, compileStatic } from "../helpers/host";
import { TestNet, sh } from "../helpers/testnet";
import { startHostSockets, type HostSockets } from "../helpers/host-sockets";

const before = TestNet.hostNetSnapshot();
const h = new TestHost("shared");
const net = new TestNet();
const CG2 = `/sys/fs/cgroup/unified/${h.cgroupParent}`;
let up = "";
let hs: HostSockets;
const started: Array<ReturnType<typeof Bun.spawn>> = [];

// peer.py in the client namespace: answers every TCP connection on PORT with the address it came
// from, and writes the source of every UDP datagram to PORT into peer.log (the guests' busybox
// has no UDP netcat: its nslookup sends the datagram).
const PEER = `${h.root}/peer.py`;
const PEER_LOG = `${h.root}/peer.log`;
const PEER_PORT = 47000 + Math.floor(Math.random() * 1000);

const addrs = () => sh(["ip", "-o", "addr", "show", "dev", up]).out;
const context = (name: string) => JSON.parse(readFileSync(`${h.runDir}/${name}`, "utf8")).context as number;
const listening = (port: number) => sh(["ss", "-ltnH", `sport = :${port}`]).out;

/** The escape program (tests/escape/escape.c), built once, copied into the guest's root. */
function escapeIn(guest: string): string {
  const bin = compileStatic(`${REPO}/tests/escape/escape.c`, `${h.root}/escape-bin`);
  copyFileSync(bin, `${h.vdir(guest)}/escape`);
  chmodSync(`${h.vdir(guest)}/escape`, 0o755);
  return bin;
}

function webGuest(name: string, files: Record<string, string>): void {
  busyboxGuest(h, name, { "interfaces/mode": "shared\n", "interfaces/dev": up + "\n", ...files });
  mkdirSync(`${h.vdir(name)}/www`, { recursive: true });
  writeFileSync(`${h.vdir(name)}/www/index.html`, `hello from ${name}\n`);
}

beforeAll(async () => {
  hs = await startHostSockets();
  up = net.uplink("sh", ["198.18.52.1/24", "2001:db8:52::1/64"], ["198.18.52.100/24", "2001:db8:52::100/64"]);
  writeFileSync(PEER, `
import socket, sys, threading
port = int(sys.argv[1])
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("::", port))
def udp():
    while True:
        d, a = u.recvfrom(600); print("udp", a[0], flush=True)
threading.Thread(target=udp, daemon=True).start()
t = socket.socket(socket.AF_INET6); t.bind(("::", port)); t.listen()
while True:
    c, a = t.accept(); c.send(a[0].encode() + b"\\n"); c.close()
`);
  const peer = Bun.spawn(["ip", "netns", "exec", net.ns, "python3", PEER, String(PEER_PORT)], { stdout: Bun.file(PEER_LOG), stderr: "inherit" });
  started.push(peer);
  webGuest("sa", {
    "interfaces/00/ip": "198.18.52.10\n", "interfaces/00/name": "web",
    "interfaces/01/ip": "198.18.52.20\n",
    "interfaces/02/ip": "2001:db8:52::10\n",
  });
  webGuest("sb", { "interfaces/00/ip": "198.18.52.11\n" });
  h.ok("sa", "start");
  h.ok("sb", "start");
  await Bun.sleep(200); // the peer's listener
});

afterAll(() => {
  for (const p of started) p.kill("SIGKILL");
  hs?.stop();
  try {
    h.cleanup();
  } finally {
    net.remove();
  }
  expect(TestNet.hostNetSnapshot()).toBe(before);
});

describe("shared mode", () => {
  test("the addresses are aliases on the host's device, labelled DEV:NAME; the guest has no namespace of its own", () => {
    const a = addrs();
    expect(a).toMatch(new RegExp(`inet 198\\.18\\.52\\.10/32 .*${up}:web`));
    expect(a).toMatch(new RegExp(`inet 198\\.18\\.52\\.11/32 .*${up}:sb`));
    expect(a).toContain("inet6 2001:db8:52::10/128");
    const pid = JSON.parse(readFileSync(`${h.runDir}/sa`, "utf8")).pid;
    expect(sh(["readlink", `/proc/${pid}/ns/net`]).out).toBe(sh(["readlink", "/proc/self/ns/net"]).out);
  });

  test("two guests serve the same port, each on its own address", () => {
    h.ok("sa", "exec", "httpd", "-p", "8080", "-h", "/www");
    h.ok("sb", "exec", "httpd", "-p", "8080", "-h", "/www");
    expect(net.get("http://198.18.52.10:8080/")).toBe("hello from sa\n");
    expect(net.get("http://198.18.52.11:8080/")).toBe("hello from sb\n");
    // Nothing listens on the host's own address.
    expect(net.get("http://198.18.52.1:8080/")).toBeUndefined();
  });

  test("binds: 0.0.0.0 lands on the first address, another own address works, anything else is refused", () => {
    // busybox nc -l binds the wildcard, or the address given after the port.
    h.ok("sa", "exec", "sh", "-c", "(nc -l -p 7001 >/dev/null 2>&1 &); (nc -l -p 7002 198.18.52.20 >/dev/null 2>&1 &); sleep 0.3");
    expect(listening(7001)).toMatch(/198\.18\.52\.10\]?:7001/);
    expect(listening(7002)).toContain("198.18.52.20:7002");
    const host = h.vserver("sa", "exec", "nc", "-l", "-p", "7003", "198.18.52.1");
    expect(host.code).not.toBe(0);
    expect(host.stderr).toContain("bind: Operation not permitted");
    const other = h.vserver("sa", "exec", "nc", "-l", "-p", "7003", "198.18.52.11");
    expect(other.stderr).toContain("bind: Operation not permitted");
  });

  test("binds to :: land on the first address (an IPv4 one mapped, so a dual-stack server answers IPv4); the host's IPv6 address is refused", () => {
    h.ok("sa", "exec", "sh", "-c", "(nc -l -p 7005 :: >/dev/null 2>&1 &); (nc -l -p 7007 2001:db8:52::10 >/dev/null 2>&1 &); sleep 0.3");
    expect(listening(7005)).toContain("[::ffff:198.18.52.10]:7005");
    expect(listening(7007)).toContain("[2001:db8:52::10]:7007");
    const host = h.vserver("sa", "exec", "nc", "-l", "-p", "7006", "2001:db8:52::1");
    expect(host.code).not.toBe(0);
    expect(host.stderr).toContain("bind: Operation not permitted");
  });

  test("a v6-only :: socket (nginx's listen [::]:80) lands on the first IPv6 address beside the 0.0.0.0 one; with no IPv6 address it fails", () => {
    const bin = compileStatic(`${REPO}/tests/helpers/bind-probe.c`, `${h.root}/bind-probe`);
    for (const g of ["sa", "sb"]) {
      copyFileSync(bin, `${h.vdir(g)}/bind-probe`);
      chmodSync(`${h.vdir(g)}/bind-probe`, 0o755);
    }
    const nginx = ["tcp", "0.0.0.0", "7020", "tcp6only", "::", "7020", "udp", "0.0.0.0", "7021", "udp6only", "::", "7021", "tcp", "::", "7022"];
    expect(h.vserver("sa", "exec", "/bind-probe", ...nginx).stdout).toBe("198.18.52.10\n2001:db8:52::10\n198.18.52.10\n2001:db8:52::10\n::ffff:198.18.52.10\n");
    expect(h.vserver("sb", "exec", "/bind-probe", ...nginx).stdout).toBe("198.18.52.11\nInvalid argument\n198.18.52.11\nInvalid argument\n::ffff:198.18.52.11\n");
  });

  test("outgoing TCP and UDP leave from the guest's address", () => {
    expect(h.vserver("sa", "exec", "nc", "-w", "3", "198.18.52.100", String(PEER_PORT)).stdout).toMatch(/^(::ffff:)?198\.18\.52\.10\n$/);
    expect(h.vserver("sb", "exec", "nc", "-w", "3", "198.18.52.100", String(PEER_PORT)).stdout).toMatch(/^(::ffff:)?198\.18\.52\.11\n$/);
    expect(h.vserver("sa", "exec", "nc", "-w", "3", "2001:db8:52::100", String(PEER_PORT)).stdout).toBe("2001:db8:52::10\n");
    h.vserver("sb", "exec", "nslookup", `-port=${PEER_PORT}`, "-timeout=1", "-retry=1", "example.test", "198.18.52.100");
    expect(readFileSync(PEER_LOG, "utf8")).toMatch(/^udp (::ffff:)?198\.18\.52\.11$/m);
    expect(readFileSync(PEER_LOG, "utf8")).not.toMatch(/^udp (::ffff:)?198\.18\.52\.1$/m);
    // The host itself is not bound: its connections leave from its own address.
    const fromHost = sh(["busybox", "nc", "-w", "3", "198.18.52.100", String(PEER_PORT)]).out;
    expect(fromHost).toMatch(/198\.18\.52\.1\n$/);
  });

  test("a datagram with an explicit source (IP_PKTINFO) leaves only from one of the guest's own addresses", async () => {
    escapeIn("sa");
    const spoof = (src: string) => h.vserver("sa", "exec", "/escape", "spoof", src, "198.18.52.100", String(PEER_PORT)).stdout.trim();
    expect(spoof("198.18.52.1")).toBe("spoof_source blocked sendmsg from 198.18.52.1: Operation not permitted");
    expect(spoof("198.18.52.11")).toBe("spoof_source blocked sendmsg from 198.18.52.11: Operation not permitted");
    expect(spoof("198.18.52.20")).toBe("spoof_source escaped sent a datagram from 198.18.52.20");
    // The same from the host, not bound, gets through: the refusals above are the guest's programs.
    expect(Bun.spawnSync([`${h.root}/escape-bin`, "spoof", "198.18.52.11", "198.18.52.100", String(PEER_PORT)]).stdout.toString().trim()).toStartWith("spoof_source escaped");
    // The peer saw the allowed one, and none from the host's address.
    for (let i = 0; i < 40 && !/^udp (::ffff:)?198\.18\.52\.20$/m.test(readFileSync(PEER_LOG, "utf8")); i++) await Bun.sleep(50);
    expect(readFileSync(PEER_LOG, "utf8")).toMatch(/^udp (::ffff:)?198\.18\.52\.20$/m);
    expect(readFileSync(PEER_LOG, "utf8")).not.toMatch(/^udp (::ffff:)?198\.18\.52\.1$/m);
  });

  test("the host's 127.0.0.1 service stays out of reach; the guest's own loopback works", () => {
    const r = h.vserver("sb", "exec", "nc", "-w", "2", "127.0.0.1", String(hs.port));
    expect(r.stdout).not.toContain("host-loopback");
    h.ok("sb", "exec", "sh", "-c", "(echo mine | nc -l -p 7010 127.0.0.1 >/dev/null 2>&1 &); sleep 0.3");
    const lb = `127.1.${context("sb") >> 8}.${context("sb") & 255}`;
    expect(listening(7010)).toContain(`${lb}:7010`);
    expect(h.vserver("sb", "exec", "nc", "-w", "2", "127.0.0.1", "7010").stdout).toBe("mine\n");
  });

  test("the host's abstract unix sockets stay out of reach; the host itself still reaches them", () => {
    const bin = escapeIn("sb");
    const inGuest = h.vserver("sb", "exec", "/usr/bin/env", `ESC_ABSTRACT=${hs.abstract}`, "/escape", "host_abstract").stdout;
    expect(inGuest).toMatch(/^host_abstract blocked connect @\S+: Operation not permitted; sendto @\S+-dgram: Operation not permitted/m);
    const onHost = Bun.spawnSync([bin, "host_abstract"], { env: { ...process.env, ESC_ABSTRACT: hs.abstract } }).stdout.toString();
    expect(onHost).toMatch(/^host_abstract escaped/m);
  });

  test("with security/abstract-sockets scoped, a shared-mode guest's own abstract sockets work and the host's stay out of reach", () => {
    webGuest("sf", { "interfaces/00/ip": "198.18.52.40\n", "security/abstract-sockets": "scoped\n" });
    escapeIn("sf");
    h.ok("sf", "start");
    try {
      expect(h.vserver("sf", "exec", "/escape", "abstract-self").stdout).toStartWith("abstract_self escaped a child connected");
      expect(h.vserver("sf", "exec", "/usr/bin/env", `ESC_ABSTRACT=${hs.abstract}`, "/escape", "host_abstract").stdout).toContain(`host_abstract blocked connect @${hs.abstract}: Operation not permitted`);
      // Its addresses are still its only ones.
      expect(h.vserver("sf", "exec", "nc", "-w", "3", "198.18.52.100", String(PEER_PORT)).stdout).toMatch(/^(::ffff:)?198\.18\.52\.40\n$/);
    } finally {
      h.ok("sf", "stop");
    }
    expect(addrs()).not.toContain("198.18.52.40");
  });

  test("a chbind'ed host command serves the same port on the host's address beside the guests", async () => {
    mkdirSync(`${h.root}/hostwww`, { recursive: true });
    writeFileSync(`${h.root}/hostwww/index.html`, "hello from the host\n");
    const p = Bun.spawn([`${BIN}/chbind`, "--silent", "--ip", "198.18.52.1", "--", "busybox", "httpd", "-f", "-p", "8080", "-h", `${h.root}/hostwww`], { env: h.env, stdout: "ignore", stderr: "inherit" });
    started.push(p);
    for (let i = 0; i < 40 && !listening(8080).includes("198.18.52.1]:8080") && !listening(8080).includes("198.18.52.1:8080"); i++) await Bun.sleep(50);
    expect(net.get("http://198.18.52.1:8080/")).toBe("hello from the host\n");
    expect(net.get("http://198.18.52.10:8080/")).toBe("hello from sa\n");
    p.kill("SIGTERM");
    await p.exited;
  });

  test("an address already used by a running guest is refused, naming the file", () => {
    busyboxGuest(h, "sc", { "interfaces/mode": "shared\n", "interfaces/dev": up + "\n", "interfaces/00/ip": "198.18.52.11\n" });
    const r = h.vserver("sc", "start");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${h.cfg("sc")}/interfaces/00/ip: 198.18.52.11 is already used by the running guest 'sb'.`);
    expect(addrs()).toContain("198.18.52.11/32");
  });

  test("an address without dev must already be the host's", () => {
    busyboxGuest(h, "sd", { "interfaces/mode": "shared\n", "interfaces/00/ip": "198.18.52.30\n", "interfaces/00/nodev": "" });
    const r = h.vserver("sd", "start");
    expect(r.stderr).toContain(`${h.cfg("sd")}/interfaces/00/ip: 198.18.52.30 is not an address of this host; give interfaces/00/dev to have it added.`);
    expect(existsSync(`${h.runDir}/.net/sd.json`)).toBe(false);
  });

  test("shared mode with spaces/net is refused, naming the file, and leaves nothing", () => {
    busyboxGuest(h, "se", { "interfaces/mode": "shared\n", "interfaces/dev": up + "\n", "interfaces/00/ip": "198.18.52.31\n", "spaces/net": "" });
    const r = h.vserver("se", "start");
    expect(r.stderr).toContain(`${h.cfg("se")}/spaces/net: a guest in shared mode stays on the host's network stack and cannot have a namespace of its own.`);
    expect(addrs()).not.toContain("198.18.52.31");
    expect(existsSync(`${h.runDir}/.net/se.json`)).toBe(false);
  });

  test("stop removes the addresses and the programs; so does the next start after a kill -9 of start", () => {
    const dir = `${CG2}/${context("sb")}`;
    expect(existsSync(dir)).toBe(true);
    h.ok("sb", "stop");
    expect(existsSync(dir)).toBe(false);
    expect(addrs()).not.toContain("198.18.52.11");
    expect(addrs()).toContain("198.18.52.10"); // sa's stay

    mkdirSync(`${h.cfg("sb")}/scripts`, { recursive: true });
    writeFileSync(`${h.cfg("sb")}/scripts/pre-start`, "#!/bin/sh\nkill -9 $PPID\n", { mode: 0o755 });
    expect(h.vserver("sb", "start").code).not.toBe(0);
    expect(addrs()).toContain("198.18.52.11/32");
    writeFileSync(`${h.cfg("sb")}/scripts/pre-start`, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    h.ok("sb", "start");
    expect(addrs().match(/198\.18\.52\.11\//g)?.length).toBe(1);
    h.ok("sb", "stop");
    expect(addrs()).not.toContain("198.18.52.11");
    h.ok("sa", "stop");
    expect(addrs()).not.toMatch(/198\.18\.52\.(10|11|20)\/|2001:db8:52::10\//);
    expect(addrs()).toContain("198.18.52.1/24");
  });
});

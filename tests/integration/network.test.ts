// Guest networking on real namespaces and links: routed (veth + host routes + proxy ARP/NDP on a
// fake uplink), bridge, macvlan and none; reachability from a client namespace playing the LAN and
// from the host; isolation; cleanup after stop, a failed start and kill -9.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { TestHost, busyboxGuest } from "../helpers/host";
import { TestNet, sh } from "../helpers/testnet";

const before = TestNet.hostNetSnapshot();
const h = new TestHost("net");
const net = new TestNet();
let up = "";

afterAll(() => {
  try {
    h.cleanup();
  } finally {
    net.remove();
  }
  expect(TestNet.hostNetSnapshot()).toBe(before);
});

function webGuest(name: string, files: Record<string, string>): void {
  busyboxGuest(h, name, files);
  mkdirSync(`${h.vdir(name)}/www`, { recursive: true });
  writeFileSync(`${h.vdir(name)}/www/index.html`, `hello from ${name}\n`);
}

function serve(name: string): void {
  h.ok(name, "exec", "httpd", "-p", "8080", "-h", "/www");
}

const sysctl = (k: string) => readFileSync(`/proc/sys/net/${k}`, "utf8").trim();
const netLeft = (name: string) => existsSync(`${h.runDir}/.net/${name}.json`) || existsSync(`${h.runDir}/.net/${name}.netns`);

describe("routed guests on a fake uplink", () => {
  beforeAll(() => {
    up = net.uplink("up", ["198.18.42.1/24", "2001:db8:42::1/64"], ["198.18.42.100/24", "2001:db8:42::100/64"]);
    webGuest("ra", {
      "interfaces/dev": up + "\n",
      "interfaces/00/ip": "198.18.42.10\n", "interfaces/00/prefix": "24\n", "interfaces/00/bcast": "255.255.255.255\n",
      "interfaces/01/ip": "2001:db8:42::10\n", "interfaces/01/prefix": "64\n",
      "interfaces/02/ip": "198.18.45.77\n", "interfaces/02/nodev": "",
    });
    webGuest("rb", { "interfaces/00/ip": "198.18.42.11\n", "interfaces/00/dev": up + "\n" });
    h.ok("ra", "start");
    h.ok("rb", "start");
    serve("ra");
    serve("rb");
  });

  test("reachable from the LAN at its address, two guests on the same port", () => {
    expect(net.get("http://198.18.42.10:8080/")).toBe("hello from ra\n");
    expect(net.get("http://198.18.42.11:8080/")).toBe("hello from rb\n");
  });

  test("vserver-stat --json reports a guest's traffic from its own namespace", () => {
    const stat = () => JSON.parse(h.run("vserver-stat", ["--json"]).stdout).find((c: any) => c.name === "ra");
    const before = stat();
    expect(net.get("http://198.18.42.10:8080/")).toBe("hello from ra\n");
    const after = stat();
    expect(after.netTxBytes).toBeGreaterThan(before.netTxBytes + 13);
    expect(after.netRxPackets).toBeGreaterThan(before.netRxPackets);
    expect(after.netRxBytes).toBeGreaterThan(0);
    expect(after.netTxPackets).toBeGreaterThan(0);
  });

  test("IPv6 from the LAN (proxy NDP)", () => {
    expect(net.get("http://[2001:db8:42::10]:8080/")).toBe("hello from ra\n");
  });

  test("reachable from the host, including a nodev address", () => {
    expect(net.get("http://198.18.42.10:8080/", "host")).toBe("hello from ra\n");
    expect(net.get("http://[2001:db8:42::10]:8080/", "host")).toBe("hello from ra\n");
    expect(net.get("http://198.18.45.77:8080/", "host")).toBe("hello from ra\n");
  });

  test("a nodev address is not announced on the uplink", () => {
    net.client(["ip", "route", "add", "198.18.45.77/32", "dev", `vstupc${net.tag}`]);
    expect(net.get("http://198.18.45.77:8080/")).toBeUndefined();
  });

  test("a 0.0.0.0 listener answers on no other address", () => {
    // The host's own uplink address and the host's loopback do not lead to the guests' httpd.
    expect(net.get("http://198.18.42.1:8080/")).toBeUndefined();
    expect(net.get("http://127.0.0.1:8080/", "host")).toBeUndefined();
    expect(sh(["ss", "-Htln", "sport = :8080"]).out.trim()).toBe("");
  });

  test("the guest sees only loopback and its own link and addresses", () => {
    const links = h.inGuest("ra", "ip", "-o", "link").stdout.split("\n").filter(Boolean).map((l) => l.split(":")[1]!.trim().split("@")[0]);
    expect(links).toEqual(["lo", "eth0"]);
    const addrs = h.inGuest("ra", "ip", "-o", "addr").stdout;
    expect(addrs).toContain("inet 198.18.42.10/24 brd 255.255.255.255");
    expect(addrs).toContain("inet6 2001:db8:42::10/64");
    expect(addrs).not.toContain("198.18.42.11");
    expect(h.inGuest("ra", "ls", "/sys/class/net").stdout.split(/\s+/).filter(Boolean).sort()).toEqual(["eth0", "lo"]);
  });

  test("the guest cannot change addresses, routes or links", () => {
    expect(h.inGuest("ra", "ip", "addr", "add", "198.18.42.50/32", "dev", "eth0").code).not.toBe(0);
    expect(h.inGuest("ra", "ip", "route", "add", "198.18.44.0/24", "dev", "eth0").code).not.toBe(0);
    expect(h.inGuest("ra", "ip", "link", "set", "eth0", "down").code).not.toBe(0);
    expect(h.inGuest("ra", "ip", "link", "add", "x0", "type", "dummy").code).not.toBe(0);
    expect(h.inGuest("ra", "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward").code).not.toBe(0);
    expect(net.get("http://198.18.42.10:8080/")).toBe("hello from ra\n");
  });

  test("a guest's address cannot be taken by a second guest", () => {
    busyboxGuest(h, "rc", { "interfaces/00/ip": "198.18.42.10\n", "interfaces/00/dev": up + "\n" });
    const r = h.vserver("rc", "start");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${h.cfg("rc")}/interfaces/00/ip: 198.18.42.10 is already used by the running guest 'ra'`);
    expect(netLeft("rc")).toBe(false);
  });

  test("stop removes links, routes, proxies and restores the uplink's settings", () => {
    expect(sysctl(`ipv4/conf/${up}/forwarding`)).toBe("1");
    expect(sysctl(`ipv6/conf/${up}/proxy_ndp`)).toBe("1");
    h.ok("ra", "stop");
    expect(sh(["ip", "neigh", "show", "proxy"]).out).not.toContain("198.18.42.10");
    expect(sh(["ip", "-6", "neigh", "show", "proxy"]).out).not.toContain("2001:db8:42::10");
    expect(sh(["ip", "route"]).out).not.toContain("198.18.42.10");
    expect(sh(["ip", "route"]).out).not.toContain("198.18.45.77");
    expect(netLeft("ra")).toBe(false);
    // rb still needs IPv4 forwarding on the uplink; nobody needs proxy NDP any more.
    expect(sysctl(`ipv4/conf/${up}/forwarding`)).toBe("1");
    expect(sysctl(`ipv6/conf/${up}/proxy_ndp`)).toBe("0");
    expect(net.get("http://198.18.42.11:8080/")).toBe("hello from rb\n");
    h.ok("rb", "stop");
    expect(sysctl(`ipv4/conf/${up}/forwarding`)).toBe("0");
    expect(sysctl(`ipv6/conf/${up}/force_forwarding`)).toBe("0");
    expect(sh(["ip", "-o", "link"]).out).not.toMatch(/: vs[0-9a-f]{8}/);
  });

  test("a failed start leaves nothing, and the next start works", () => {
    mkdirSync(`${h.cfg("rb")}/scripts`, { recursive: true });
    writeFileSync(`${h.cfg("rb")}/scripts/pre-start`, "#!/bin/sh\nexit 3\n", { mode: 0o755 });
    expect(h.vserver("rb", "start").code).not.toBe(0);
    expect(netLeft("rb")).toBe(false);
    expect(sh(["ip", "route"]).out).not.toContain("198.18.42.11");
    expect(sysctl(`ipv4/conf/${up}/forwarding`)).toBe("0");
    writeFileSync(`${h.cfg("rb")}/scripts/pre-start`, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    h.ok("rb", "start");
    serve("rb");
    expect(net.get("http://198.18.42.11:8080/")).toBe("hello from rb\n");
    h.ok("rb", "stop");
    expect(netLeft("rb")).toBe(false);
  });

  test("kill -9 of the vserver command half-way through start: the next start clears up and works", () => {
    // The pre-start hook runs after networking was set up; it kills the start command itself.
    writeFileSync(`${h.cfg("rb")}/scripts/pre-start`, "#!/bin/sh\nkill -9 $PPID\n", { mode: 0o755 });
    expect(h.vserver("rb", "start").code).not.toBe(0);
    expect(netLeft("rb")).toBe(true);
    expect(sh(["ip", "route"]).out).toContain("198.18.42.11");
    writeFileSync(`${h.cfg("rb")}/scripts/pre-start`, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    h.ok("rb", "start");
    serve("rb");
    expect(net.get("http://198.18.42.11:8080/")).toBe("hello from rb\n");
  });

  test("kill -9 of the guest's PID 1: stop clears its network, start works again", () => {
    const rec = JSON.parse(readFileSync(`${h.runDir}/rb`, "utf8"));
    process.kill(rec.pid, "SIGKILL");
    h.vserver("rb", "stop");
    expect(netLeft("rb")).toBe(false);
    expect(sh(["ip", "neigh", "show", "proxy"]).out).not.toContain("198.18.42.11");
    h.ok("rb", "start");
    h.ok("rb", "stop");
    expect(netLeft("rb")).toBe(false);
  });
});

describe("bridge mode", () => {
  let lan = "";
  beforeAll(() => {
    // An administrator's bridge with a host address and the client LAN on it.
    lan = net.bridge("lan", ["198.18.43.1/24"]);
    net.uplink("bp", [], ["198.18.43.100/24"], lan);
    webGuest("ba", {
      "interfaces/mode": "bridge\n", "interfaces/dev": lan + "\n",
      "interfaces/00/ip": "198.18.43.20\n", "interfaces/00/prefix": "24\n",
    });
    webGuest("bb", { "interfaces/mode": "bridge\n", "interfaces/00/ip": "198.18.43.21\n", "interfaces/00/dev": lan + "\n" });
    // Guests on a bridge the project creates and removes.
    webGuest("bn1", { "interfaces/mode": "bridge\n", "interfaces/dev": `vstnb${net.tag}\n`, "interfaces/00/ip": "198.18.44.31\n" });
    webGuest("bn2", { "interfaces/mode": "bridge\n", "interfaces/dev": `vstnb${net.tag}\n`, "interfaces/00/ip": "198.18.44.32\n" });
    for (const g of ["ba", "bb", "bn1", "bn2"]) {
      h.ok(g, "start");
      serve(g);
    }
  });

  test("reachable from the LAN and from the host, same port on two guests", () => {
    expect(net.get("http://198.18.43.20:8080/")).toBe("hello from ba\n");
    expect(net.get("http://198.18.43.21:8080/")).toBe("hello from bb\n");
    expect(net.get("http://198.18.43.20:8080/", "host")).toBe("hello from ba\n");
  });

  test("a LAN broadcast (dhcpd-style, to 255.255.255.255) reaches a bridge guest's namespace", async () => {
    const pid = JSON.parse(readFileSync(`${h.runDir}/ba`, "utf8")).pid;
    const listen = "import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(('0.0.0.0',6767));s.settimeout(8);print(s.recvfrom(64)[0].decode(),flush=True)";
    const l = Bun.spawn(["timeout", "10", "nsenter", `--net=/proc/${pid}/ns/net`, "python3", "-c", listen], { stdout: "pipe", stderr: "pipe" });
    await Bun.sleep(500);
    // Out of the client's LAN link, as a DHCP client without an address would send it.
    const send = `import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.setsockopt(socket.SOL_SOCKET,socket.SO_BROADCAST,1);s.setsockopt(socket.SOL_SOCKET,socket.SO_BINDTODEVICE,b'vstbpc${net.tag}');s.sendto(b'DHCPDISCOVER',('255.255.255.255',6767))`;
    for (let i = 0; i < 3; i++) net.client(["python3", "-c", send]);
    await l.exited;
    expect((await new Response(l.stdout).text()).trim()).toBe("DHCPDISCOVER");
  });

  test("guests on a bridge the project made reach each other; it goes with its last guest", () => {
    const br = `vstnb${net.tag}`;
    expect(h.inGuest("bn1", "timeout", "6", "wget", "-q", "-O", "-", "http://198.18.44.32:8080/").stdout).toBe("hello from bn2\n");
    h.ok("bn1", "stop");
    expect(existsSync(`/sys/class/net/${br}`)).toBe(true);
    h.ok("bn2", "stop");
    expect(existsSync(`/sys/class/net/${br}`)).toBe(false);
  });

  test("an administrator's bridge stays after its guests stop", () => {
    h.ok("ba", "stop");
    h.ok("bb", "stop");
    expect(existsSync(`/sys/class/net/${lan}`)).toBe(true);
    expect(readdirSync(`/sys/class/net/${lan}/brif`)).toEqual([`vstbp${net.tag}`]);
  });
});

describe("macvlan and none", () => {
  beforeAll(() => {
    const parent = net.uplink("mv", [], ["198.18.44.100/24"]);
    webGuest("ma", { "interfaces/00/mode": "macvlan\n", "interfaces/00/dev": parent + "\n", "interfaces/00/ip": "198.18.44.40\n" });
    busyboxGuest(h, "na", { "interfaces/mode": "none\n" });
    h.ok("ma", "start");
    h.ok("na", "start");
    serve("ma");
  });

  test("a macvlan guest is reachable from the LAN behind its parent device", () => {
    expect(net.get("http://198.18.44.40:8080/")).toBe("hello from ma\n");
    expect(h.inGuest("ma", "ls", "/sys/class/net").stdout.split(/\s+/).filter(Boolean).sort()).toEqual(["eth0", "lo"]);
  });

  test("mode none: loopback only", () => {
    expect(h.inGuest("na", "ls", "/sys/class/net").stdout.trim()).toBe("lo");
    expect(h.inGuest("na", "ip", "-o", "addr").stdout).not.toContain("inet 192.");
  });

  test("stop removes them", () => {
    h.ok("ma", "stop");
    h.ok("na", "stop");
    expect(netLeft("ma") || netLeft("na")).toBe(false);
  });
});

describe("build --interface", () => {
  test("writes interfaces/NN and refuses bad addresses naming the option", () => {
    h.ok("bi", "build", "-m", "busybox", "--quiet", "--interface", `web=${up}:198.18.42.60/24`, "--interface", "2001:db8:42::60/64");
    expect(readFileSync(`${h.cfg("bi")}/interfaces/00/ip`, "utf8")).toBe("198.18.42.60\n");
    expect(readFileSync(`${h.cfg("bi")}/interfaces/00/dev`, "utf8")).toBe(`${up}\n`);
    expect(readFileSync(`${h.cfg("bi")}/interfaces/00/name`, "utf8")).toBe("web\n");
    expect(existsSync(`${h.cfg("bi")}/interfaces/01/nodev`)).toBe(true);
    h.ok("bi", "start");
    h.ok("bi", "exec", "httpd", "-p", "8080", "-h", "/etc");
    expect(net.get("http://198.18.42.60:8080/passwd")).toContain("root:");
    h.ok("bi", "stop");
    const r = h.vserver("bj", "build", "-m", "busybox", "--quiet", "--interface", "198.18.42.61/33");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--interface '198.18.42.61/33': '33' is not a prefix length for IPv4 (0-32).");
  });

  test("a bad file is refused at start, naming it", () => {
    writeFileSync(`${h.cfg("bi")}/interfaces/00/prefix`, "33\n");
    const r = h.vserver("bi", "start");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${h.cfg("bi")}/interfaces/00/prefix: '33' is not a prefix length for IPv4 (0-32).`);
    expect(netLeft("bi")).toBe(false);
  });
});

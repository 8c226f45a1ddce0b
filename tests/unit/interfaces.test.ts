import { describe, expect, test } from "bun:test";
import { parseInterfaces, maskToPrefix } from "../../src/pure/config/interfaces";
import { fileTree } from "../../src/pure/config/tree";
import { guestBatch, linkPrefix, planNetwork } from "../../src/pure/net/plan";
import { interfaceConfigEntries } from "../../src/control/build-interfaces";
import { legacyToEntries } from "../../src/pure/config/legacy-conf";
import { aliasAddLines, aliasDelLine, hostAliases } from "../../src/pure/net/shared";

const CFG = "/etc/vservers/g";
const parse = (files: Record<string, string>) => parseInterfaces(fileTree(files), CFG);
const err = (files: Record<string, string>) => {
  try {
    parse(files);
  } catch (e) {
    return (e as Error).message;
  }
  return "no error";
};

describe("interfaces/ parser", () => {
  test("no interfaces/ is the host's stack; mode none is loopback only", () => {
    expect(parse({ context: "5" }).kind).toBe("host");
    expect(parse({ "interfaces/mode": "none" }).kind).toBe("none");
    expect(parse({ "interfaces/00/ip": "192.0.2.5", "interfaces/00/disabled": "" }).kind).toBe("host");
  });

  test("top-level defaults, mask, several addresses, IPv6", () => {
    const n = parse({
      "interfaces/dev": "eth9\n", "interfaces/mask": "255.255.255.0",
      "interfaces/00/ip": "192.0.2.5\n", "interfaces/00/bcast": "255.255.255.255", "interfaces/00/name": "web",
      "interfaces/01/ip": "2001:db8::5", "interfaces/01/prefix": "64", "interfaces/01/mask": "",
      "interfaces/02/ip": "198.51.100.7", "interfaces/02/nodev": "", "interfaces/02/prefix": "28",
    });
    expect(n.kind).toBe("own");
    expect(n.addresses.map((a) => [a.ip, a.family, a.prefix, a.dev, a.nodev, a.mode])).toEqual([
      ["192.0.2.5", 4, 24, "eth9", false, "routed"],
      ["2001:db8::5", 6, 64, "eth9", false, "routed"],
      ["198.51.100.7", 4, 28, undefined, true, "routed"],
    ]);
    expect(n.addresses[0]!.bcast).toBe("255.255.255.255");
    expect(n.addresses[0]!.label).toBe("web");
  });

  test("default prefixes: host-sized when routed, LAN-sized on a bridge", () => {
    expect(parse({ "interfaces/00/ip": "192.0.2.5" }).addresses[0]!.prefix).toBe(32);
    expect(parse({ "interfaces/00/ip": "2001:db8::1" }).addresses[0]!.prefix).toBe(128);
    const b = parse({ "interfaces/mode": "bridge", "interfaces/dev": "br0", "interfaces/00/ip": "192.0.2.5", "interfaces/01/ip": "2001:db8::1" });
    expect(b.addresses.map((a) => a.prefix)).toEqual([24, 64]);
  });

  test("bad addresses, prefixes and masks name the file", () => {
    expect(err({ "interfaces/00/ip": "192.0.2.300" })).toBe(`${CFG}/interfaces/00/ip: '192.0.2.300' is not an IPv4 or IPv6 address.`);
    expect(err({ "interfaces/00/ip": "192.0.2.1", "interfaces/00/prefix": "33" })).toBe(`${CFG}/interfaces/00/prefix: '33' is not a prefix length for IPv4 (0-32).`);
    expect(err({ "interfaces/prefix": "129", "interfaces/00/ip": "2001:db8::1" })).toBe(`${CFG}/interfaces/prefix: '129' is not a prefix length for IPv6 (0-128).`);
    expect(err({ "interfaces/00/ip": "192.0.2.1", "interfaces/00/prefix": "/24" })).toContain("interfaces/00/prefix: '/24' is not a prefix length");
    expect(err({ "interfaces/00/ip": "192.0.2.1", "interfaces/00/mask": "255.0.255.0" })).toBe(`${CFG}/interfaces/00/mask: '255.0.255.0' is not a netmask (like 255.255.255.0).`);
    expect(err({ "interfaces/00/ip": "2001:db8::1", "interfaces/00/mask": "255.255.255.0" })).toContain("interfaces/00/mask: a dotted mask applies to IPv4 only");
    expect(err({ "interfaces/00/dev": "eth0" })).toBe(`${CFG}/interfaces/00/ip: an interface needs an address (the file is missing or empty).`);
    expect(err({ "interfaces/00/ip": "0.0.0.0" })).toContain("interfaces/00/ip: '0.0.0.0' cannot be a guest's address.");
    expect(err({ "interfaces/00/ip": "2001:db8::1", "interfaces/00/bcast": "2001:db8::ff" })).toContain("interfaces/00/bcast: IPv6 has no broadcast address.");
    expect(err({ "interfaces/00/ip": "192.0.2.1", "interfaces/00/bcast": "nope" })).toContain("interfaces/00/bcast:");
    expect(err({ "interfaces/00/ip": "192.0.2.1", "interfaces/00/dev": "eth0 up" })).toContain("interfaces/00/dev: 'eth0 up' is not a network device name.");
    expect(err({ "interfaces/mode": "nat", "interfaces/00/ip": "192.0.2.1" })).toBe(`${CFG}/interfaces/mode: 'nat' is not a network mode (one of routed, bridge, macvlan, shared, none).`);
    expect(err({ "interfaces/00/mode": "macvlan", "interfaces/00/ip": "192.0.2.1" })).toContain("interfaces/00/dev: mode macvlan needs a device");
    expect(err({ "interfaces/00/ip": "192.0.2.1", "interfaces/01/ip": "192.0.2.1" })).toContain("interfaces/01/ip: 192.0.2.1 is given twice.");
    expect(err({ "interfaces/00/ip": "192.0.2.1", "interfaces/00/gateway": "2001:db8::1" })).toContain("interfaces/00/gateway:");
  });

  test("masks convert to prefixes", () => {
    expect(maskToPrefix("255.255.255.0")).toBe(24);
    expect(maskToPrefix("255.255.255.255")).toBe(32);
    expect(maskToPrefix("0.0.0.0")).toBe(0);
    expect(maskToPrefix("255.255.0.255")).toBeUndefined();
  });

  test("unsupported files are reported, not silently ignored", () => {
    const n = parse({ "interfaces/00/ip": "192.0.2.1", "interfaces/00/tun": "", "interfaces/lback": "127.1.1.1" });
    expect(n.warnings.map((w) => w.file).sort()).toEqual([`${CFG}/interfaces/00/tun`, `${CFG}/interfaces/lback`]);
  });

  test("legacy IPROOT conversion is accepted by the parser", () => {
    const r = legacyToEntries('IPROOT="eth1:192.0.2.7 198.51.100.2/255.255.255.0"\nIPROOTDEV=eth0\nIPROOTBCAST=255.255.255.255\n', "/etc/vservers/x.conf");
    const tree = new Map(r.entries);
    for (const k of [...tree.keys()]) {
      const parts = k.split("/");
      for (let i = 1; i < parts.length; i++) if (!tree.has(parts.slice(0, i).join("/"))) tree.set(parts.slice(0, i).join("/"), { kind: "dir" });
    }
    const n = parseInterfaces(tree, CFG);
    expect(n.addresses.map((a) => [a.ip, a.prefix, a.dev, a.bcast])).toEqual([
      ["192.0.2.7", 32, "eth1", "255.255.255.255"],
      ["198.51.100.2", 24, "eth0", "255.255.255.255"],
    ]);
  });
});

describe("network plan", () => {
  const n = parse({
    "interfaces/00/ip": "192.0.2.5", "interfaces/00/dev": "up0", "interfaces/00/prefix": "24",
    "interfaces/01/ip": "2001:db8::5", "interfaces/01/dev": "up0",
    "interfaces/02/ip": "198.51.100.9", "interfaces/02/mode": "bridge", "interfaces/02/dev": "br7",
    "interfaces/03/ip": "203.0.113.4", "interfaces/03/mode": "macvlan", "interfaces/03/dev": "up1",
    "interfaces/04/ip": "192.0.2.6", "interfaces/04/nodev": "",
  });
  const prefix = linkPrefix("/run/vservers", "g");
  const p = planNetwork(n.addresses, prefix);

  test("one link per way out, host names short and derived from installation and name", () => {
    expect(prefix).toMatch(/^vs[0-9a-f]{8}$/);
    expect(linkPrefix("/other/run", "g")).not.toBe(prefix);
    expect(p.links.map((l) => [l.kind, l.guestName, l.hostName, l.dev, l.addresses.length])).toEqual([
      ["routed", "eth0", `${prefix}r`, undefined, 3],
      ["bridge", "eth1", `${prefix}b0`, "br7", 1],
      ["macvlan", "eth2", undefined, "up1", 1],
    ]);
    for (const l of p.links) if (l.hostName) expect(l.hostName.length).toBeLessThanOrEqual(15);
  });

  test("proxies only for routed addresses with a device; nodev gets none", () => {
    expect(p.proxies).toEqual([{ family: 4, ip: "192.0.2.5", dev: "up0" }, { family: 6, ip: "2001:db8::5", dev: "up0" }]);
    expect(p.uplinks).toEqual([{ dev: "up0", v4: true, v6: true }]);
    expect(p.bridges).toEqual(["br7"]);
  });

  test("guest side: routed addresses without prefix route, default through the host", () => {
    const b = guestBatch(p);
    expect(b).toContain("address add 192.0.2.5/24 dev eth0 broadcast + noprefixroute");
    expect(b).toContain("address add 2001:db8::5/128 dev eth0 noprefixroute nodad");
    expect(b).toContain("address add 198.51.100.9/24 dev eth1 broadcast +");
    expect(b).toContain("route add default dev eth0");
    expect(b).toContain("route add default via fe80::1 dev eth0");
  });

  test("bcast and label reach ip", () => {
    const q = planNetwork(parse({ "interfaces/00/ip": "192.0.2.5", "interfaces/00/prefix": "24", "interfaces/00/bcast": "255.255.255.255", "interfaces/00/name": "dhcp" }).addresses, "vsx");
    expect(guestBatch(q)).toContain("address add 192.0.2.5/24 dev eth0 broadcast 255.255.255.255 label eth0:dhcp noprefixroute");
  });
});

describe("build --interface", () => {
  const m = (specs: string[]) => Object.fromEntries(interfaceConfigEntries(specs).map(([k, e]) => [k, e.kind === "file" ? e.content : ""]));
  test("[name=][dev:]ip[/prefix], repeatable, IPv6 colons are not a device", () => {
    expect(m(["web=eth0:192.0.2.5/24", "2001:db8::5/64", "198.51.100.1/255.255.255.0"])).toEqual({
      "interfaces/00/name": "web\n", "interfaces/00/dev": "eth0\n", "interfaces/00/prefix": "24\n", "interfaces/00/ip": "192.0.2.5\n",
      "interfaces/01/nodev": "", "interfaces/01/prefix": "64\n", "interfaces/01/ip": "2001:db8::5\n",
      "interfaces/02/nodev": "", "interfaces/02/mask": "255.255.255.0\n", "interfaces/02/ip": "198.51.100.1\n",
    });
    expect(m(["eth0:fe80::1/64"])["interfaces/00/dev"]).toBe("eth0\n");
  });
  test("bad specs are refused naming the option", () => {
    expect(() => m(["eth0:192.0.2.5/40"])).toThrow("--interface 'eth0:192.0.2.5/40': '40' is not a prefix length for IPv4 (0-32).");
    expect(() => m(["eth0:nonsense"])).toThrow("--interface 'eth0:nonsense': 'nonsense' is not an IPv4 or IPv6 address.");
  });
});

import { isIPv4, isIPv6 } from "../../src/pure/config/interfaces";
describe("address syntax", () => {
  test("IPv4 and IPv6 checks", () => {
    for (const a of ["0.0.0.0", "192.0.2.255", "10.1.2.3"]) expect(isIPv4(a)).toBe(true);
    for (const a of ["256.1.1.1", "1.2.3", "01.2.3.4", "1.2.3.4.5", "a.b.c.d", ""]) expect(isIPv4(a)).toBe(false);
    for (const a of ["::", "::1", "2001:db8::5", "fe80::1", "1:2:3:4:5:6:7:8", "::ffff:192.0.2.1", "2001:db8::"]) expect(isIPv6(a)).toBe(true);
    for (const a of ["1:2:3:4:5:6:7:8:9", "1::2::3", "12345::1", "g::1", "1:2:3:4:5:6:7", ":::", "::ffff:300.1.1.1"]) expect(isIPv6(a)).toBe(false);
  });
});

describe("shared mode", () => {
  test("all addresses shared: the host's stack, host-sized prefixes by default", () => {
    const n = parse({ "interfaces/mode": "shared", "interfaces/dev": "eth9", "interfaces/00/ip": "192.0.2.5", "interfaces/01/ip": "2001:db8::5", "interfaces/02/ip": "198.51.100.7", "interfaces/02/nodev": "" });
    expect(n.kind).toBe("shared");
    expect(n.addresses.map((a) => [a.ip, a.prefix, a.dev, a.mode])).toEqual([
      ["192.0.2.5", 32, "eth9", "shared"], ["2001:db8::5", 128, "eth9", "shared"], ["198.51.100.7", 32, undefined, "shared"],
    ]);
  });

  test("mixing shared with a namespace mode is refused, naming the other entry's mode file", () => {
    expect(err({ "interfaces/00/ip": "192.0.2.5", "interfaces/00/mode": "shared", "interfaces/00/dev": "eth0", "interfaces/01/ip": "192.0.2.6" }))
      .toBe(`${CFG}/interfaces/01/mode: mode routed cannot be mixed with mode shared (${CFG}/interfaces/00): a shared guest stays on the host's network stack.`);
  });

  test("a label that would not fit the kernel's 15 characters is refused", () => {
    expect(err({ "interfaces/mode": "shared", "interfaces/00/ip": "192.0.2.5", "interfaces/00/dev": "enp0s31f6", "interfaces/00/name": "website" }))
      .toBe(`${CFG}/interfaces/00/name: the label 'enp0s31f6:website' is longer than the 15 characters an address label may have.`);
  });

  test("aliases: labelled DEV:NAME (the name file, else the guest's name if it fits), none for nodev", () => {
    const n = parse({ "interfaces/mode": "shared", "interfaces/dev": "eth9", "interfaces/00/ip": "192.0.2.5", "interfaces/00/name": "web", "interfaces/01/ip": "192.0.2.6", "interfaces/02/ip": "2001:db8::5", "interfaces/03/ip": "198.51.100.7", "interfaces/03/nodev": "" });
    const al = hostAliases(n.addresses, "guest1");
    expect(al.map((a) => a.label)).toEqual(["eth9:web", "eth9:guest1", undefined]);
    expect(hostAliases(n.addresses, "a-very-long-guest-name")[1]!.label).toBeUndefined();
    expect(aliasAddLines(al)).toEqual([
      "address add 192.0.2.5/32 dev eth9 label eth9:web",
      "address add 192.0.2.6/32 dev eth9 label eth9:guest1",
      "address add 2001:db8::5/128 dev eth9 nodad",
    ]);
    expect(aliasDelLine(al[0]!)).toBe("address del 192.0.2.5/32 dev eth9");
  });
});

import { describe, expect, test } from "bun:test";
import { parseBindAddress, parseBindAddresses } from "../../src/pure/bpf/addresses";
import { sockAddrPrograms, ATTACH } from "../../src/pure/bpf/sock-addr-programs";
import { UsageError } from "../../src/errors";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("").replace(/(.{16})(?!$)/g, "$1 ");
const prog = (ips: string[], name: string) => sockAddrPrograms(parseBindAddresses(ips)).find((p) => p.name === name)!;

describe("chbind addresses", () => {
  test("IPv4 and IPv6 to network-order bytes and canonical text", () => {
    expect(Array.from(parseBindAddress("127.0.0.77").bytes)).toEqual([127, 0, 0, 77]);
    const v6 = parseBindAddress("FD00:0:0::0:12/64");
    expect(v6.family).toBe(6);
    expect(v6.text).toBe("fd00::12");
    expect(Array.from(v6.bytes)).toEqual([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12]);
    expect(parseBindAddress("::1").text).toBe("::1");
    expect(parseBindAddress("2001:db8:0:0:1:0:0:1").text).toBe("2001:db8::1:0:0:1");
    expect(parseBindAddress("64:ff9b::10.0.0.1").text).toBe("64:ff9b::a00:1");
  });

  test("a v4-mapped address is the IPv4 address", () => {
    const a = parseBindAddress("::ffff:10.1.2.3");
    expect(a.family).toBe(4);
    expect(a.text).toBe("10.1.2.3");
  });

  test("bad values are refused with a sentence naming the flag", () => {
    expect(() => parseBindAddress("10.0.0.300")).toThrow(new UsageError("--ip: '10.0.0.300' is not an IPv4 or IPv6 address."));
    expect(() => parseBindAddress("eth0")).toThrow(/^--ip: 'eth0' is not an IPv4 or IPv6 address\.$/);
    expect(() => parseBindAddress("10.0.0.1/33")).toThrow(/^--ip: '33' in '10.0.0.1\/33' is not a prefix length/);
    expect(() => parseBindAddress("0.0.0.0")).toThrow(/wildcard/);
    expect(() => parseBindAddress("::")).toThrow(/wildcard/);
    expect(() => parseBindAddress("10.0.0.1")).not.toThrow();
  });

  test("order is kept and duplicates dropped", () => {
    expect(parseBindAddresses(["10.0.0.2", "::1", "10.0.0.2/24", "10.0.0.1"]).map((a) => a.text)).toEqual(["10.0.0.2", "::1", "10.0.0.1"]);
  });
});

describe("sock_addr programs", () => {
  test("every hook of both families is built, even for IPv4 only (an absent v6 hook leaves IPv6 open)", () => {
    const ps = sockAddrPrograms(parseBindAddresses(["127.0.0.77"]));
    expect(ps.map((p) => [p.name, p.attachType, p.progType])).toEqual([
      ["bind4", 8, 18], ["bind6", 9, 18], ["connect4", 10, 18], ["connect6", 11, 18], ["sendmsg4", 14, 18], ["sendmsg6", 15, 18],
    ]);
    expect(Object.values(ATTACH)).toEqual([8, 9, 10, 11, 14, 15]);
  });

  test("bind4 for 127.0.0.77: allow it, rewrite 0.0.0.0, refuse the rest", () => {
    expect(hex(prog(["127.0.0.77"], "bind4").code)).toBe([
      "bf16000000000000", // r6 = r1
      "6162040000000000", // w2 = user_ip4
      "160204007f00004d", // if w2 == 127.0.0.77 goto allow
      "5602050000000000", // if w2 != 0 goto deny
      "b40300007f00004d", // w3 = 127.0.0.77
      "6336040000000000", // user_ip4 = w3
      "0500000000000000", // goto allow
      "b700000001000000", "9500000000000000", // allow: return 1
      "b700000000000000", "9500000000000000", // deny: return 0
    ].join(" "));
  });

  test("several addresses make a compare chain; the first one takes wildcard binds", () => {
    const code = hex(prog(["10.0.0.200", "10.0.0.1"], "bind4").code).split(" ");
    expect(code.slice(2, 4)).toEqual(["160205000a0000c8", "160204000a000001"]);
    expect(code[5]).toBe("b40300000a0000c8");
  });

  test("no IPv4 address: the IPv4 hooks refuse everything", () => {
    for (const n of ["bind4", "connect4", "sendmsg4"]) expect(hex(prog(["fd00::1"], n).code)).toBe("b700000000000000 9500000000000000");
    expect(hex(prog(["10.0.0.1"], "sendmsg6").code)).toBe("b700000000000000 9500000000000000");
  });

  test("bind6 rewrites :: to the first address given, an IPv4 one as ::ffff:a.b.c.d", () => {
    const v4first = hex(prog(["127.0.0.77", "::1"], "bind6").code).split(" ");
    // the rewrite stores 4 words: 0, 0, 0xffff0000 (bytes 00 00 ff ff), 127.0.0.77
    expect(v4first).toContain("b402000000000000");
    expect(v4first).toContain("b40200000000ffff");
    expect(v4first).toContain("b40200007f00004d");
    const v6first = hex(prog(["::1", "127.0.0.77"], "bind6").code).split(" ");
    expect(v6first).toContain("b402000000000001");
    expect(v6first).not.toContain("b40200007f00004d");
  });

  test("bind6 with the v6-only bit known sends a v6-only socket's :: to the first IPv6 address", () => {
    const v6only = (ips: string[]) => hex(sockAddrPrograms(parseBindAddresses(ips), { v6onlyBit: 157 }).find((p) => p.name === "bind6")!.code).split(" ");
    const code = v6only(["127.0.0.77", "::1"]);
    expect(code).toContain("8500000088000000"); // call bpf_skc_to_tcp6_sock (136)
    expect(code).toContain("850000008c000000"); // call bpf_skc_to_udp6_sock (140)
    expect(code).toContain("7102130000000000"); // w2 = *(u8 *)(r0 + 19): bit 157 is in byte 19
    expect(code).toContain("5402000020000000"); // w2 &= 1 << 5
    expect(code).toContain("b402000000000001"); // ::1 for a v6-only socket
    expect(code).toContain("b40200007f00004d"); // ::ffff:127.0.0.77 for a dual-stack one
    // No IPv6 address, or an IPv6 one first: nothing to tell apart, no socket read.
    for (const ips of [["127.0.0.77"], ["::1", "127.0.0.77"]]) expect(v6only(ips)).not.toContain("8500000088000000");
  });

  test("connect4 binds the source with bpf_bind on a zeroed sockaddr_in", () => {
    const code = hex(prog(["127.0.0.77"], "connect4").code).split(" ");
    expect(code).toContain("b407000002000000"); // w7 = AF_INET
    expect(code).toContain("637ae0ff00000000"); // *(u32 *)(r10 - 32) = w7
    expect(code).toContain("b40700007f00004d"); // w7 = 127.0.0.77
    expect(code).toContain("b703000010000000"); // r3 = 16
    expect(code).toContain("8500000040000000"); // call bpf_bind
  });
});

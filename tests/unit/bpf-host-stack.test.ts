import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { Btf, BtfError } from "../../src/pure/bpf/btf";
import { HOST_STACK_ATTACH, hostStackPrograms, lbackAddress, sharedPrograms } from "../../src/pure/bpf/host-stack-programs";
import { loopback4 } from "../../src/pure/bpf/loopback";
import { parseBindAddress } from "../../src/pure/bpf/addresses";
import { callKfunc, assemble, and32Imm, jgt32, ldx, label, R0, R2, R3 } from "../../src/pure/bpf/insn";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const VMLINUX = "/sys/kernel/btf/vmlinux";

describe("host-stack programs", () => {
  test("lback address: 127.1.H.L from the context, never 127.0.0.x", () => {
    expect(Array.from(lbackAddress(2))).toEqual([127, 1, 0, 2]);
    expect(Array.from(lbackAddress(49151))).toEqual([127, 1, 0xbf, 0xff]);
  });

  test("new encodings: byte load, 32-bit and, unsigned jgt, kfunc call", () => {
    expect(hex(assemble([ldx("b", R2, R3, 2)]))).toBe("7132020000000000");
    expect(hex(assemble([and32Imm(R3, 0xff)]))).toBe("54030000ff000000");
    expect(hex(assemble([jgt32(R2, 2, "x"), label("x"), callKfunc(63481)]))).toBe("2602000002000000" + "85200000f9f70000");
    expect(R0).toBe(0);
  });

  test("every hook is built, the unix ones only with the kernel's facts", () => {
    const lb = lbackAddress(300);
    const without = hostStackPrograms(lb).map((p) => p.name);
    expect(without).not.toContain("connect_unix");
    const all = hostStackPrograms(lb, { castToKernCtx: 1, uaddrOffset: 8, uaddrlenOffset: 32 });
    expect(all.map((p) => p.name as string).sort()).toEqual(Object.keys(HOST_STACK_ATTACH).sort());
    for (const p of all) {
      expect(p.attachType).toBe(HOST_STACK_ATTACH[p.name]);
      expect(p.progType).toBe(p.name === "sock_create" ? 9 : 18);
      expect(p.code.length % 8).toBe(0);
    }
  });

  test("the lback word is compared and stored as the address's network-order bytes", () => {
    const bind4 = hostStackPrograms(lbackAddress(0x012c)).find((p) => p.name === "bind4")!;
    // The immediate is the little-endian load of the address, so its bytes are the address's own.
    expect(hex(bind4.code)).toContain("160204007f01012c"); // if w2 == 127.1.1.44 goto allow
    expect(hex(bind4.code)).toContain("b40300007f01012c"); // w3 = 127.1.1.44
    expect(hex(bind4.code)).toContain("560205007f000001"); // if w2 != 127.0.0.1 goto deny
  });
});

describe("BTF reader", () => {
  test("bad data is refused", () => {
    expect(() => new Btf(new Uint8Array(32))).toThrow(BtfError);
  });

  test.skipIf(!existsSync(VMLINUX))("finds the kfunc, struct members and attach types of the running kernel", () => {
    const btf = new Btf(new Uint8Array(readFileSync(VMLINUX)));
    expect(btf.funcId("bpf_cast_to_kern_ctx")).toBeGreaterThan(0);
    expect(btf.memberOffset("bpf_sock_addr_kern", "sk")).toBe(0);
    expect(btf.memberOffset("bpf_sock_addr_kern", "uaddr")).toBe(8);
    // The attach types the programs use are the kernel's own numbers.
    const names: Record<string, string> = {
      sock_create: "BPF_CGROUP_INET_SOCK_CREATE", bind4: "BPF_CGROUP_INET4_BIND", bind6: "BPF_CGROUP_INET6_BIND",
      connect4: "BPF_CGROUP_INET4_CONNECT", connect6: "BPF_CGROUP_INET6_CONNECT", sendmsg4: "BPF_CGROUP_UDP4_SENDMSG",
      sendmsg6: "BPF_CGROUP_UDP6_SENDMSG", recvmsg4: "BPF_CGROUP_UDP4_RECVMSG", recvmsg6: "BPF_CGROUP_UDP6_RECVMSG",
      getpeername4: "BPF_CGROUP_INET4_GETPEERNAME", getpeername6: "BPF_CGROUP_INET6_GETPEERNAME",
      getsockname4: "BPF_CGROUP_INET4_GETSOCKNAME", getsockname6: "BPF_CGROUP_INET6_GETSOCKNAME",
      connect_unix: "BPF_CGROUP_UNIX_CONNECT", sendmsg_unix: "BPF_CGROUP_UNIX_SENDMSG",
    };
    for (const [hook, n] of Object.entries(names)) expect(btf.enumValue("bpf_attach_type", n)).toBe(HOST_STACK_ATTACH[hook as keyof typeof HOST_STACK_ATTACH]);
    expect(btf.enumValue("bpf_attach_type", "NO_SUCH_VALUE")).toBeUndefined();
    expect(() => btf.memberOffset("bpf_sock_addr_kern", "nope")).toThrow(/has no member 'nope'/);
  });
});

describe("shared-mode programs", () => {
  const own = [parseBindAddress("198.18.52.10"), parseBindAddress("2001:db8:52::10")];

  test("chbind's address programs, each led by the loopback rule, plus the rest of the host-stack set", () => {
    const progs = sharedPrograms(own, lbackAddress(300));
    expect(progs.map((p) => p.name as string).sort()).toEqual(
      ["bind4", "bind6", "connect4", "connect6", "getpeername4", "getpeername6", "getsockname4", "getsockname6",
        "recvmsg4", "recvmsg6", "sendmsg4", "sendmsg6", "sock_create"].sort());
    const bind4 = hex(progs.find((p) => p.name === "bind4")!.code);
    // r6 = ctx; w2 = user_ip4; w3 = w2 & 0xff: the loopback rule comes first (loopback.ts).
    expect(bind4.startsWith(hex(assemble(loopback4(4, 0x2c01017f, "guest").slice(0, 4))))).toBe(true);
    expect(bind4).toContain("16020400c612340a"); // then: if w2 == 198.18.52.10 goto allow
  });

  test("lowPorts: allowed binds return 1|BPF_RET_BIND_NO_CAP_NET_BIND_SERVICE, nothing else changes", () => {
    const exitsOf = (code: Uint8Array) => hex(code).match(/b7000000(0[0-3])000000/g);
    const plain = sharedPrograms(own, lbackAddress(300));
    const low = sharedPrograms(own, lbackAddress(300), undefined, { lowPorts: true });
    for (const p of low) {
      const q = plain.find((x) => x.name === p.name)!;
      if (p.name.startsWith("bind")) {
        expect(exitsOf(p.code)).toContain("b700000003000000");
        expect(exitsOf(q.code)).not.toContain("b700000003000000");
      } else expect(hex(p.code)).toBe(hex(q.code));
    }
    const hs = hostStackPrograms(lbackAddress(300), undefined, { lowPorts: true });
    expect(hex(hs.find((p) => p.name === "bind4")!.code)).toContain("b700000003000000");
    expect(hex(hs.find((p) => p.name === "connect4")!.code)).not.toContain("b700000003000000");
  });
});

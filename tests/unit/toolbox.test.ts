import { describe, expect, test } from "bun:test";
import { mountAttrBits, parseVmountArgs } from "../../src/pure/vmount-args";
import { biasToShares, cpuQuotaUs, cpuShareOf } from "../../src/pure/sched";

describe("vmount arguments", () => {
  test("a bind: host source, guest target, nosuid and nodev unless lifted", () => {
    const p = parseVmountArgs(["--bind", "-o", "ro", "/srv/data", "/mnt"]);
    expect(p).toMatchObject({ kind: "bind", recursive: false, source: "/srv/data", target: "/mnt", readOnly: true, nosuid: true, nodev: true });
    expect(mountAttrBits(p)).toBe(0x1 | 0x2 | 0x4);
    expect(mountAttrBits(parseVmountArgs(["--rbind", "-o", "suid,dev", "/a", "/b"]))).toBe(0);
    expect(parseVmountArgs(["-o", "bind", "/a", "/b"]).kind).toBe("bind");
  });
  test("a new file system keeps its own options", () => {
    expect(parseVmountArgs(["-t", "tmpfs", "-o", "size=1m,noexec", "none", "/tmp/x"])).toMatchObject({ kind: "fs", type: "tmpfs", fsOptions: ["size=1m"], noexec: true });
  });
  test("what cannot be done is refused with the reason", () => {
    expect(() => parseVmountArgs(["/a", "/b"])).toThrow("--bind");
    expect(() => parseVmountArgs(["--bind", "/a"])).toThrow("a source and a target");
    expect(() => parseVmountArgs(["--bind", "-t", "ext4", "/a", "/b"])).toThrow("no type");
    expect(() => parseVmountArgs(["--move", "/a", "/b"])).toThrow("cannot be moved");
    expect(() => parseVmountArgs(["--bind", "/a", "b"])).toThrow("absolute path inside the guest");
    expect(() => parseVmountArgs(["--bind", "-o", "size=1m", "/a", "/b"])).toThrow("does not apply to a bind mount");
  });
});

describe("the token bucket as cgroup CPU control", () => {
  test("fill-rate/interval is a share of each CPU, as a quota per 100 ms period", () => {
    expect(cpuShareOf(1, 4)).toBe(0.25);
    expect(cpuQuotaUs(0.25, 4)).toBe(100000);
    expect(cpuQuotaUs(0.001, 1)).toBe(1000);
    expect(() => cpuShareOf(5, 4)).toThrow("more than all of a CPU");
    expect(() => cpuShareOf(0, 4)).toThrow("whole numbers from 1");
  });
  test("priority-bias is a weight: negative means more", () => {
    expect(biasToShares(0)).toBe(1024);
    expect(biasToShares(-5)).toBe(3125);
    expect(biasToShares(-99)).toBe(biasToShares(-20));
  });
});

describe("manual pages", () => {
  test("every command has its one-line description", () => {
    const { COMMANDS } = require("../../src/cli/commands");
    const { DESCRIPTIONS } = require("../../src/cli/descriptions");
    for (const c of [...Object.keys(COMMANDS), "vserverd"]) expect(DESCRIPTIONS[c]).toBeString();
  });
});

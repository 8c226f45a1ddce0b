import { describe, expect, test } from "bun:test";
import { capsFromMask } from "../../src/pure/cap-mask";
import {
  editConfigList, formatLimitRow, memoryBytesToPages, parseLimitValue, parseProcLimits,
  parseUtsTag, sharesToWeight, utsRefusal, utsValueProblem, weightToShares,
} from "../../src/pure/live-settings";

describe("vuname tags", () => {
  test("any case and unique prefixes, as util-vserver's strncasecmp", () => {
    expect(parseUtsTag("NodeName")).toBe("nodename");
    expect(parseUtsTag("dom")).toBe("domainname");
    expect(parseUtsTag("bogus")).toBeUndefined();
    expect(parseUtsTag("")).toBeUndefined();
  });
  test("only nodename and domainname can be set; the others say why", () => {
    expect(utsRefusal("nodename")).toBeUndefined();
    expect(utsRefusal("domainname")).toBeUndefined();
    expect(utsRefusal("release")).toMatch(/host's kernel/);
    expect(utsRefusal("context")).toMatch(/config directory/);
  });
  test("values", () => {
    expect(utsValueProblem("nodename", "")).toMatch(/empty/);
    expect(utsValueProblem("domainname", "")).toBeUndefined();
    expect(utsValueProblem("nodename", "a b")).toMatch(/spaces/);
    expect(utsValueProblem("nodename", "x".repeat(65))).toMatch(/64/);
    expect(utsValueProblem("nodename", "web-1.example")).toBeUndefined();
  });
});

describe("vlimit values and rows", () => {
  test("numbers, hex and inf", () => {
    expect(parseLimitValue("100")).toEqual({ ok: true, value: 100 });
    expect(parseLimitValue("0x10")).toEqual({ ok: true, value: 16 });
    expect(parseLimitValue("inf")).toEqual({ ok: true, value: undefined });
    expect(parseLimitValue("-1")).toEqual({ ok: true, value: undefined });
    expect(parseLimitValue("10k")).toEqual({ ok: false });
    expect(parseLimitValue("")).toEqual({ ok: false });
  });
  test("util-vserver's -a layout: name, then fields at columns 10, 30, 50", () => {
    const line = formatLimitRow({ name: "nproc", min: null, soft: undefined, hard: 4096 }, false);
    expect(line).toBe("NPROC       N/A                 inf                 0x1000");
    expect(line.indexOf("N/A")).toBe(12);
    expect(line.indexOf("inf")).toBe(32);
    expect(line.indexOf("0x1000")).toBe(52);
    expect(formatLimitRow({ name: "rss", min: null, soft: null, hard: 10 }, true)).toBe("RSS         N/A                 N/A                 10");
  });
  test("memory bytes to pages; v1's near-2^63 and v2's max are no limit", () => {
    expect(memoryBytesToPages("40960000")).toBe(10000);
    expect(memoryBytesToPages("9223372036854771712")).toBeUndefined();
    expect(memoryBytesToPages("max")).toBeUndefined();
  });
  test("cpu.shares <-> cpu.weight as crun converts them", () => {
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(262144)).toBe(10000);
    expect(weightToShares(10000)).toBe(262144);
    expect(weightToShares(1)).toBe(2);
  });
  test("/proc/PID/limits rows", () => {
    const text = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max open files            1024                 524288               files     
`;
    const m = parseProcLimits(text);
    expect(m.get("Max open files")).toEqual({ soft: 1024, hard: 524288 });
    expect(m.get("Max cpu time")).toEqual({ soft: undefined, hard: undefined });
  });
});

describe("vattribute", () => {
  test("a CapBnd mask to names in bit order", () => {
    expect(capsFromMask("0000000000000001")).toEqual(["CHOWN"]);
    expect(capsFromMask("0000000000002021")).toEqual(["CHOWN", "KILL", "NET_RAW"]);
    expect(capsFromMask("0")).toEqual([]);
  });
  test("list edits replace an earlier line about the same name and keep the rest", () => {
    const canon = (s: string) => s.toUpperCase().replace(/^CAP_/, "");
    expect(editConfigList(undefined, [{ name: "NET_RAW", negate: false }], canon)).toBe("NET_RAW\n");
    expect(editConfigList("# mine\nCAP_NET_RAW\nSYS_NICE\n", [{ name: "net_raw", negate: true }], canon)).toBe("# mine\nSYS_NICE\n~net_raw\n");
    expect(editConfigList("!MKNOD\n", [{ name: "MKNOD", negate: false }, { name: "CHOWN", negate: true }], canon)).toBe("MKNOD\n~CHOWN\n");
  });
});

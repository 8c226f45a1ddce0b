import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { contextsOverlapping, guestIdRange, overlappingRange, parseIdMap, parseSubordinateIds } from "../../src/pure/id-range";
import { BUILD_START, nextFreeContext } from "../../src/pure/context-alloc";
import { guestIds } from "../../src/control/guest-ids";
import { parseGuestConfig } from "../../src/pure/config/guest-config";
import { ConfigError } from "../../src/errors";

const dir = mkdtempSync("/tmp/vserver-unit-ids-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("guest id ranges", () => {
  test("65536 ids from context × 65536: the guest's uid N is the host's context·65536 + N", () => {
    expect(guestIdRange(2)).toEqual({ base: 131072, count: 65536 });
    expect(guestIdRange(40000)).toEqual({ base: 40000 * 65536, count: 65536 });
  });

  test("ranges of different contexts never share an id, and the last stops short of (uid_t)-1", () => {
    for (const [a, b] of [[2, 3], [40000, 40001], [49151, 49152], [65534, 65535]] as const) {
      const ra = guestIdRange(a), rb = guestIdRange(b);
      expect(ra.base + ra.count).toBeLessThanOrEqual(rb.base);
    }
    const last = guestIdRange(65535);
    expect(last.base + last.count - 1).toBe(0xfffffffe);
  });

  test("subordinate id files: owner:start:count lines, others skipped; overlap found by line", () => {
    const r = parseSubordinateIds("# comment\nalice:100000:65536\nbroken\nbob:2621440000:10\n");
    expect(r.map((x) => [x.owner, x.line])).toEqual([["alice", 2], ["bob", 4]]);
    expect(overlappingRange(guestIdRange(40000), r)?.owner).toBe("bob");
    expect(overlappingRange(guestIdRange(40001), r)).toBeUndefined();
    expect(overlappingRange(guestIdRange(2), r)?.owner).toBe("alice");
  });

  test("the contexts a host user's subordinate ids take, which build and dynamic contexts skip", () => {
    const r = parseSubordinateIds("alice:100000:65536\nbob:2621440000:65537\n");
    expect([...contextsOverlapping(r)].sort((a, b) => a - b)).toEqual([1, 2, 40000, 40001]);
  });

  test("a start whose range overlaps a host user's subordinate ids fails with one sentence naming the file", () => {
    const subuid = `${dir}/subuid`;
    writeFileSync(subuid, "carol:2621440000:65536\n");
    const g = parseGuestConfig({ name: "web", cfgDir: "/etc/vservers/web", guest: new Map(), defaults: new Map(), vdirBase: "/vservers" });
    expect(() => guestIds(g, 40000, [subuid])).toThrow(ConfigError);
    expect(() => guestIds(g, 40000, [subuid])).toThrow(new RegExp(`overlap ${subuid} line 1 \\(carol`));
    expect(guestIds(g, 40001, [subuid, `${dir}/missing`])).toEqual(guestIdRange(40001));
  });
});

describe("ranges that user namespaces on the host map", () => {
  test("a uid_map gives its outside ranges; the host's identity map is none", () => {
    expect(parseIdMap("         0 2621440000      65536\n")).toEqual([{ start: 2621440000, count: 65536 }]);
    expect(parseIdMap("         0          0 4294967295\n")).toEqual([]);
    expect(parseIdMap("0 1000 1\n1 100000 65536\n")).toEqual([{ start: 1000, count: 1 }, { start: 100000, count: 65536 }]);
    expect(parseIdMap("garbage\n\n")).toEqual([]);
  });

  test("a context whose range another root's guest maps is skipped by allocation", () => {
    const mapped = contextsOverlapping(parseIdMap(`0 ${40000 * 65536} 65536\n`));
    expect([...mapped]).toEqual([40000]);
    expect(nextFreeContext(mapped)).toBe(BUILD_START + 1);
    // A nested namespace mapping part of a range takes the whole context.
    expect([...contextsOverlapping(parseIdMap(`0 ${40002 * 65536 + 1000} 10\n`))]).toEqual([40002]);
  });
});

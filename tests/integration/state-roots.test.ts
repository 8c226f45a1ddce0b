// Two state roots on one host (two installations, or two test roots) number their guests from the
// same contexts, and a context picks the guest's host ids. A guest of one root must never get the
// ids a running guest of the other has: whatever got out of one would own the other's processes
// and files. `build` and a dynamic pick skip those contexts; a configured one is refused at start.

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { TestHost, busyboxGuest } from "../helpers/host";
import { guestIdRange } from "../../src/pure/id-range";

const a = new TestHost("roots-a");
const b = new TestHost("roots-b");
// The second root starts numbering where the first does, as two default installations would.
writeFileSync(`${b.confDir}/.defaults/context.next`, `${a.firstContext}\n`);

afterAll(() => {
  try {
    b.cleanup();
  } finally {
    a.cleanup();
  }
});

/** The host ids the guest's uid 0 to 65535 are, as its own /proc/self/uid_map says. */
function hostIds(h: TestHost, name: string): { base: number; count: number } {
  const [inside, base, count] = h.inGuest(name, "cat", "/proc/self/uid_map").stdout.trim().split(/\s+/).map(Number);
  expect(inside).toBe(0);
  return { base: base!, count: count! };
}

function disjoint(x: { base: number; count: number }, y: { base: number; count: number }): boolean {
  return x.base + x.count <= y.base || y.base + y.count <= x.base;
}

const context = (h: TestHost, name: string) => Number(readFileSync(`${h.cfg(name)}/context`, "utf8").trim());

describe("guests of two state roots get distinct id ranges", () => {
  test("build skips a context whose ids the other root's running guest has", () => {
    busyboxGuest(a, "one");
    expect(context(a, "one")).toBe(a.firstContext);
    a.ok("one", "start");
    busyboxGuest(b, "two");
    expect(context(b, "two")).toBe(a.firstContext + 1);
    b.ok("two", "start");
    const one = hostIds(a, "one"), two = hostIds(b, "two");
    expect(one.base).toBe(guestIdRange(a.firstContext).base);
    expect(disjoint(one, two)).toBe(true);
    b.ok("two", "stop");
  });

  test("a configured context whose ids are in use is refused at start, naming the file, and leaves nothing", () => {
    busyboxGuest(b, "same", { context: `${a.firstContext}\n` });
    const r = b.vserver("same", "start");
    expect(r.code).not.toBe(0);
    const range = guestIdRange(a.firstContext);
    expect(r.stderr).toMatch(new RegExp(
      `^vserver: the ids of guest 'same' \\(context ${a.firstContext}: host ids ${range.base}-${range.base + range.count - 1}\\) are in use by process \\d+, .*give the guest another context \\(${b.cfg("same")}/context\\) or stop that one\\.\\n$`,
    ));
    expect(b.vserver("same", "running").code).not.toBe(0);
    expect(existsSync(`${b.runDir}/same`)).toBe(false);
    expect(b.leftovers()).toEqual([]);
    // Once the other root's guest is gone, the same context starts.
    a.ok("one", "stop");
    b.ok("same", "start");
    expect(hostIds(b, "same").base).toBe(range.base);
    b.ok("same", "stop");
  });

  test("a dynamic context skips the ids of the other root's running guest", () => {
    busyboxGuest(a, "dyn-a");
    busyboxGuest(b, "dyn-b");
    for (const [h, n] of [[a, "dyn-a"], [b, "dyn-b"]] as const) rmSync(`${h.cfg(n)}/context`);
    a.ok("dyn-a", "start");
    b.ok("dyn-b", "start");
    expect(disjoint(hostIds(a, "dyn-a"), hostIds(b, "dyn-b"))).toBe(true);
    b.ok("dyn-b", "stop");
    a.ok("dyn-a", "stop");
  });
});

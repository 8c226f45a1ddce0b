import { describe, expect, test } from "bun:test";
import { formatExecRecord, parseExecRecord, type ExecRecord } from "../../src/pure/exec-record";

const rec: ExecRecord = {
  context: 40007, pid: 4242, pidStart: "889900", private: false, nice: 7, view: "/run/vservers/.runtime/ns/cgroup-v1-view",
  argv: ["/usr/bin/crun", "--root", "/run/vservers/.runtime/crun", "--cgroup-manager=cgroupfs", "exec", "--no-new-privs", "web 1"],
};

describe("exec record", () => {
  test("one key per line, the argv in order, values with spaces kept whole", () => {
    const text = formatExecRecord(rec)!;
    expect(text.split("\n").filter((l) => l.startsWith("arg "))).toEqual(rec.argv.map((a) => `arg ${a}`));
    expect(text).toMatch(/^version 1\ncontext 40007\npid 4242\npid-start 889900\nprivate 0\nnice 7\nview \//m);
    expect(parseExecRecord(text)).toEqual(rec);
  });

  test("no view line when the runtime needs none; private as 1", () => {
    const r = { ...rec, view: undefined, private: true };
    const text = formatExecRecord(r)!;
    expect(text).not.toMatch(/^view/m);
    expect(parseExecRecord(text)).toEqual(r);
  });

  test("a value holding a newline is not written at all", () => {
    expect(formatExecRecord({ ...rec, argv: [...rec.argv.slice(0, -1), "a\nversion 1"] })).toBeUndefined();
    expect(formatExecRecord({ ...rec, view: "/x\n" })).toBeUndefined();
  });

  test("unknown versions and missing fields are no record", () => {
    expect(parseExecRecord(formatExecRecord(rec)!.replace("version 1", "version 2"))).toBeUndefined();
    expect(parseExecRecord("version 1\ncontext 2\npid 1\n")).toBeUndefined();
    expect(parseExecRecord("")).toBeUndefined();
  });
});

// Which guests a caller limited by its token line may reach: names, patterns, and nothing else.

import { describe, expect, test } from "bun:test";
import { Scope } from "../../src/pure/api/scope";

const of = (entries: string[]) => {
  const s = Scope.of(entries);
  if ("bad" in s) throw new Error(`bad entry ${s.bad}`);
  return s;
};

describe("a scope", () => {
  test("without a list allows every guest", () => {
    expect(Scope.ALL.limited).toBe(false);
    expect(Scope.ALL.allows("anything")).toBe(true);
    expect(Scope.ALL.filter([1, 2], () => "x")).toEqual([1, 2]);
  });

  test("allows the names and patterns it lists, and nothing else", () => {
    const s = of(["web", "db-?", "alice-*"]);
    expect(s.limited).toBe(true);
    for (const g of ["web", "db-1", "alice-", "alice-mail"]) expect(s.allows(g)).toBe(true);
    for (const g of ["web2", "xweb", "db-12", "db-", "bob", "alicex", "", undefined]) expect(s.allows(g)).toBe(false);
  });

  test("reads '.' as a dot, not as any character", () => {
    const s = of(["a.b"]);
    expect(s.allows("a.b")).toBe(true);
    expect(s.allows("axb")).toBe(false);
  });

  test("'*' alone allows every guest but never a row without one", () => {
    const s = of(["*"]);
    expect(s.allows("x")).toBe(true);
    expect(s.allows("")).toBe(false);
  });

  test("filters a list by each item's guest", () => {
    const s = of(["a"]);
    expect(s.filter([{ g: "a" }, { g: "b" }, { g: undefined }], (i) => i.g)).toEqual([{ g: "a" }]);
  });

  test("names an entry that is neither a name nor a pattern", () => {
    expect(Scope.of(["web", "we b"])).toEqual({ bad: "we b" });
    expect(Scope.of(["web", ""])).toEqual({ bad: "" });
    expect(Scope.of(["a/b"])).toEqual({ bad: "a/b" });
    expect(Scope.of(["x".repeat(64)])).toEqual({ bad: "x".repeat(64) });
  });
});

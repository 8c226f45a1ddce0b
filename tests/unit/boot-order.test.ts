import { describe, expect, test } from "bun:test";
import { select, startWaves, stopWaves, type BootGuest } from "../../src/pure/boot-order";
import { ConfigError } from "../../src/errors";

const g = (name: string, depends: string[] = [], mark?: string): BootGuest => ({ name, mark, depends, dependsFile: `/etc/vservers/${name}/apps/init/depends` });
const known = (gs: BootGuest[]) => new Set(gs.map((x) => x.name));

describe("start-vservers order", () => {
  test("a guest starts in a wave after every guest it depends on, and stops before them", () => {
    const gs = [g("web", ["db", "cache"]), g("db"), g("cache", ["db"]), g("mail")];
    expect(startWaves(gs, known(gs))).toEqual([["db", "mail"], ["cache"], ["web"]]);
    expect(stopWaves(gs, known(gs))).toEqual([["web"], ["cache"], ["db", "mail"]]);
  });

  test("a dependency outside the chosen guests puts no wave before them", () => {
    const all = [g("web", ["db"]), g("db")];
    expect(startWaves([all[0]!], known(all))).toEqual([["web"]]);
  });

  test("unknown guests, a guest depending on itself and circles are errors naming the depends file", () => {
    expect(() => startWaves([g("a", ["ghost"])], new Set(["a"]))).toThrow("/etc/vservers/a/apps/init/depends: guest 'ghost' does not exist.");
    expect(() => startWaves([g("a", ["a"])], new Set(["a"]))).toThrow("cannot depend on itself");
    const circle = [g("a", ["b"]), g("b", ["c"]), g("c", ["a"])];
    expect(() => startWaves(circle, known(circle))).toThrow(/in a circle \(a -> b -> c -> a\)/);
    try { startWaves(circle, known(circle)); } catch (e) { expect(e).toBeInstanceOf(ConfigError); }
  });

  test("selections", () => {
    const gs = [g("a", [], "default"), g("b", [], "late"), g("c")];
    const running = (n: string) => n === "b";
    expect(select(gs, { kind: "marked", mark: "default" }, running).map((x) => x.name)).toEqual(["a"]);
    expect(select(gs, { kind: "unmarked" }, running).map((x) => x.name)).toEqual(["c"]);
    expect(select(gs, { kind: "running" }, running).map((x) => x.name)).toEqual(["b"]);
    expect(select(gs, { kind: "stopped" }, running).map((x) => x.name)).toEqual(["a", "c"]);
    expect(select(gs, { kind: "names", names: ["c", "a", "c"] }, running).map((x) => x.name)).toEqual(["c", "a"]);
    expect(() => select(gs, { kind: "names", names: ["zz"] }, running)).toThrow("no guest named 'zz'.");
  });
});

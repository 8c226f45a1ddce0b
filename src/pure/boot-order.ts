// start-vservers' order (util-vserver's generated Makefile, as a plan): guests start in waves, each
// wave only after every guest its members depend on (apps/init/depends) has started; stop runs
// the waves backwards. Pure: the guests' names, marks and dependencies in, the waves out.

import { ConfigError } from "../errors";

export interface BootGuest {
  name: string;
  mark: string | undefined;
  depends: string[];
  /** The depends file, for errors. */
  dependsFile: string;
}

export type Selection =
  | { kind: "names"; names: string[] }
  | { kind: "all" }
  | { kind: "marked"; mark: string }
  | { kind: "unmarked" }
  | { kind: "running" }
  | { kind: "stopped" };

/** The guests a selection names, in name order; `running` says whether a guest runs. */
export function select(all: BootGuest[], sel: Selection, running: (name: string) => boolean): BootGuest[] {
  const byName = new Map(all.map((g) => [g.name, g]));
  switch (sel.kind) {
    case "names":
      return [...new Set(sel.names)].map((n) => {
        const g = byName.get(n);
        if (!g) throw new ConfigError(`no guest named '${n}'.`);
        return g;
      });
    case "all": return all;
    case "marked": return all.filter((g) => g.mark === sel.mark);
    case "unmarked": return all.filter((g) => g.mark === undefined);
    case "running": return all.filter((g) => running(g.name));
    case "stopped": return all.filter((g) => !running(g.name));
  }
}

/**
 * Waves for starting `chosen`: a guest's dependencies come in earlier waves. A dependency that is
 * not chosen is not started by us (util-vserver's make did the same with targets outside its
 * list): it must already run, which the caller checks. Unknown names and cycles are config errors.
 */
export function startWaves(chosen: BootGuest[], known: Set<string>): string[][] {
  const inSet = new Map(chosen.map((g) => [g.name, g]));
  for (const g of chosen) {
    for (const d of g.depends) {
      if (!known.has(d)) throw new ConfigError(`${g.dependsFile}: guest '${d}' does not exist.`, { file: g.dependsFile });
      if (d === g.name) throw new ConfigError(`${g.dependsFile}: a guest cannot depend on itself.`, { file: g.dependsFile });
    }
  }
  const level = new Map<string, number>();
  const visiting = new Set<string>();
  const levelOf = (name: string, path: string[]): number => {
    const done = level.get(name);
    if (done !== undefined) return done;
    if (visiting.has(name)) {
      const cycle = [...path.slice(path.indexOf(name)), name];
      const g = inSet.get(name)!;
      throw new ConfigError(`${g.dependsFile}: the guests depend on each other in a circle (${cycle.join(" -> ")}).`, { file: g.dependsFile });
    }
    visiting.add(name);
    const deps = inSet.get(name)!.depends.filter((d) => inSet.has(d));
    const l = deps.length ? 1 + Math.max(...deps.map((d) => levelOf(d, [...path, name]))) : 0;
    visiting.delete(name);
    level.set(name, l);
    return l;
  };
  for (const g of chosen) levelOf(g.name, []);
  const waves: string[][] = [];
  for (const [name, l] of [...level].sort((a, b) => a[0].localeCompare(b[0]))) (waves[l] ??= []).push(name);
  return waves.filter((w) => w.length);
}

/** Waves for stopping: a guest stops before the guests it depends on. */
export function stopWaves(chosen: BootGuest[], known: Set<string>): string[][] {
  return startWaves(chosen, known).reverse();
}

// A guest's config directory as data: relative path -> entry. Reading the directory is a driver's
// job (drivers/config-store.ts); everything that interprets it is pure and works on this map.

export type ConfigEntry =
  | { kind: "file"; content: string; executable: boolean }
  | { kind: "link"; target: string }
  | { kind: "dir" };

export type ConfigTree = Map<string, ConfigEntry>;

export function fileContent(tree: ConfigTree, rel: string): string | undefined {
  const e = tree.get(rel);
  return e?.kind === "file" ? e.content : undefined;
}

/** Immediate children names of a directory entry ("" is the top). */
export function childrenOf(tree: ConfigTree, dir: string): string[] {
  const prefix = dir === "" ? "" : dir + "/";
  const out = new Set<string>();
  for (const key of tree.keys()) {
    if (!key.startsWith(prefix) || key === dir) continue;
    const rest = key.slice(prefix.length);
    const first = rest.split("/")[0];
    if (first) out.add(first);
  }
  return [...out].sort();
}

export function fileTree(files: Record<string, string>): ConfigTree {
  const t: ConfigTree = new Map();
  for (const [k, v] of Object.entries(files)) {
    const parts = k.split("/");
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join("/");
      if (!t.has(d)) t.set(d, { kind: "dir" });
    }
    t.set(k, { kind: "file", content: v, executable: false });
  }
  return t;
}

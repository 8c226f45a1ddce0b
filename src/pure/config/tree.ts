// A guest's config directory as data: relative path -> entry. Reading the directory is a driver's
// job (drivers/config-store.ts); everything that interprets it is pure and works on this map.

export type ConfigEntry =
  | { kind: "file"; content: string; executable: boolean; binary?: boolean }
  | { kind: "link"; target: string }
  | { kind: "dir" }
  /** A FIFO, socket or device node: never a setting. */
  | { kind: "special"; what: string };

export type ConfigTree = Map<string, ConfigEntry>;

import { ConfigError } from "../../errors";

export function fileContent(tree: ConfigTree, rel: string): string | undefined {
  const e = tree.get(rel);
  return e?.kind === "file" ? e.content : undefined;
}

/**
 * The text of a setting that must be a file (a link to one was already followed when the tree was
 * read): a directory, a FIFO or device, a dangling link or a file that is not text is an error
 * naming `path`, never a setting silently ignored.
 */
export function settingText(tree: ConfigTree, rel: string, path: string): string | undefined {
  const e = tree.get(rel);
  if (!e) return undefined;
  const bad = (why: string) => new ConfigError(`${path}: ${why}; a setting must be a regular file (or a link to one).`, { file: path });
  if (e.kind === "dir") throw bad("is a directory");
  if (e.kind === "special") throw bad(`is ${e.what}`);
  if (e.kind === "link") throw bad(`is a link to ${e.target}, which is not a regular file`);
  if (e.binary) throw new ConfigError(`${path}: holds binary data (NUL bytes or invalid UTF-8), not text.`, { file: path });
  return e.content;
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
  return entriesTree(Object.entries(files).map(([k, v]) => [k, { kind: "file", content: v, executable: false }]));
}

/** A tree of these entries with their parent directories, as reading a directory gives it. */
export function entriesTree(entries: Array<[string, ConfigEntry]>): ConfigTree {
  const t: ConfigTree = new Map();
  for (const [k, e] of entries) {
    const parts = k.split("/");
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join("/");
      if (!t.has(d)) t.set(d, { kind: "dir" });
    }
    t.set(k, e);
  }
  return t;
}

// Reads and writes config directories (/etc/vservers/NAME, .defaults) as ConfigTrees. The config
// directory belongs to the host's root, not to a guest, so ordinary file access is right here;
// links are read as links and never followed.

import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { ConfigError } from "../errors";
import type { ConfigEntry, ConfigTree } from "../pure/config/tree";

const MAX_FILE = 1 << 20;

export function readConfigTree(dir: string): ConfigTree {
  const tree: ConfigTree = new Map();
  if (!existsSync(dir)) return tree;
  const walk = (rel: string, depth: number) => {
    if (depth > 8) return;
    const abs = rel ? `${dir}/${rel}` : dir;
    for (const name of readdirSync(abs)) {
      if (name.endsWith("~") || name.endsWith(".dpkg-old") || name.endsWith(".rpmsave")) continue;
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(`${dir}/${r}`);
      if (st.isSymbolicLink()) {
        tree.set(r, { kind: "link", target: readlinkSync(`${dir}/${r}`) });
      } else if (st.isDirectory()) {
        tree.set(r, { kind: "dir" });
        walk(r, depth + 1);
      } else if (st.isFile()) {
        if (st.size > MAX_FILE) throw new ConfigError(`${dir}/${r}: larger than 1 MiB; not a config file.`, { file: `${dir}/${r}` });
        const content = readFileSync(`${dir}/${r}`, "utf8");
        if (content.includes("\r\n")) {
          throw new ConfigError(`${dir}/${r}: has DOS line endings (\\r\\n); convert it with dos2unix.`, { file: `${dir}/${r}` });
        }
        tree.set(r, { kind: "file", content, executable: (st.mode & 0o111) !== 0 });
      }
    }
  };
  walk("", 0);
  return tree;
}

/** Write entries (files and links) below dir, creating parents. */
export function writeConfigEntries(dir: string, entries: Array<[string, ConfigEntry]>): void {
  for (const [rel, e] of entries) {
    const abs = `${dir}/${rel}`;
    mkdirSync(abs.slice(0, abs.lastIndexOf("/")), { recursive: true, mode: 0o755 });
    if (e.kind === "dir") mkdirSync(abs, { recursive: true, mode: 0o755 });
    else if (e.kind === "link") symlinkSync(e.target, abs);
    else {
      writeFileSync(abs, e.content, { mode: e.executable ? 0o755 : 0o644 });
      if (e.executable) chmodSync(abs, 0o755);
    }
  }
}

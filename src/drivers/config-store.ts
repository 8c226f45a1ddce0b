// Reads and writes config directories (/etc/vservers/NAME, .defaults) as ConfigTrees. The config
// directory belongs to the host's root, not to a guest, so ordinary file access is right here;
// links are read as links and never followed. A setting is written whole or not at all (under a
// temporary name, then renamed): a full disk in `vlimit --save` and the like leaves the old value
// and names the file, never an empty or truncated setting.

import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, symlinkSync, existsSync, type Stats } from "node:fs";
import { writeFileAtomic } from "./atomic-file";
import { ConfigError } from "../errors";
import type { ConfigEntry, ConfigTree } from "../pure/config/tree";

const MAX_FILE = 1 << 20;

/** Top-level links that name a place rather than hold a value (util-vserver's layout). */
const PLACE_LINKS = new Set(["vdir", "run", "cache", "vdirbase", "cachebase"]);

function specialKind(st: Stats): string {
  return st.isFIFO() ? "a FIFO" : st.isSocket() ? "a socket" : st.isCharacterDevice() || st.isBlockDevice() ? "a device node" : "not a regular file";
}

/** Text, or binary data that is no setting: NUL bytes or bytes that are not UTF-8. */
function decode(buf: Buffer): { content: string; binary: boolean } {
  const content = buf.toString("utf8");
  return { content, binary: buf.includes(0) || content.includes("\uFFFD") };
}

/**
 * A link to a setting, followed as util-vserver did, but safely: opened without blocking (a FIFO
 * cannot hang the command), and read only when what was opened is a regular file.
 */
function readLinked(abs: string): { kind: "file"; st: Stats; buf: Buffer } | { kind: "dir" } | { kind: "other"; what: string } | undefined {
  let fd: number;
  try {
    fd = openSync(abs, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return undefined; // dangling, or a loop: kept as a link, an error where a value is read
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) return { kind: "dir" };
    if (!st.isFile()) return { kind: "other", what: specialKind(st) };
    if (st.size > MAX_FILE) return { kind: "file", st, buf: Buffer.alloc(MAX_FILE + 1) };
    return { kind: "file", st, buf: readFileSync(fd) };
  } finally {
    closeSync(fd);
  }
}

/**
 * A config file that stands alone (a legacy /etc/vservers/NAME.conf), as text, under the rules of
 * a setting: a link is followed, and only a regular text file of at most 1 MiB with Unix line
 * endings is read; anything else is a ConfigError naming the file.
 */
export function readConfigFile(abs: string): string {
  const got = readLinked(abs);
  const bad = (why: string) => new ConfigError(`${abs}: ${why}.`, { file: abs });
  if (!got) throw bad("cannot be opened");
  if (got.kind === "dir") throw bad("is a directory, not a config file");
  if (got.kind === "other") throw bad(`is ${got.what}, not a config file`);
  if (got.buf.length > MAX_FILE) throw bad("is larger than 1 MiB; not a config file");
  const { content, binary } = decode(got.buf);
  if (binary) throw bad("holds binary data (NUL bytes or invalid UTF-8), not text");
  if (content.includes("\r\n")) throw bad("has DOS line endings (\\r\\n); convert it with dos2unix");
  return content;
}

/** `only`: read just these entries of the top level (and what is below them). */
export function readConfigTree(dir: string, only?: readonly string[]): ConfigTree {
  const tree: ConfigTree = new Map();
  if (!existsSync(dir)) return tree;
  const addFile = (r: string, buf: Buffer, st: Stats) => {
    const path = `${dir}/${r}`;
    if (buf.length > MAX_FILE) throw new ConfigError(`${path}: larger than 1 MiB; not a config file.`, { file: path });
    const { content, binary } = decode(buf);
    // Hook scripts may be programs; every other file is text.
    const script = r.startsWith("scripts/");
    if (!script && !binary && content.includes("\r\n")) {
      throw new ConfigError(`${path}: has DOS line endings (\\r\\n); convert it with dos2unix.`, { file: path });
    }
    tree.set(r, { kind: "file", content, executable: (st.mode & 0o111) !== 0, ...(binary && !script ? { binary: true } : {}) });
  };
  const walk = (rel: string, depth: number) => {
    if (depth > 8) return;
    const abs = rel ? `${dir}/${rel}` : dir;
    const names = readdirSync(abs);
    for (const name of rel || !only ? names : names.filter((n) => only.includes(n))) {
      // Editors' and package managers' leftovers, and the .tmp of a write killed half-way.
      if (name.endsWith("~") || name.endsWith(".dpkg-old") || name.endsWith(".rpmsave") || name.endsWith(".tmp")) continue;
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(`${dir}/${r}`);
      if (st.isSymbolicLink()) {
        const target = readlinkSync(`${dir}/${r}`);
        const linked = !rel && PLACE_LINKS.has(name) ? undefined : readLinked(`${dir}/${r}`);
        if (linked?.kind === "file") addFile(r, linked.buf, linked.st);
        else if (linked?.kind === "dir") {
          tree.set(r, { kind: "dir" });
          walk(r, depth + 1);
        } else if (linked?.kind === "other") tree.set(r, { kind: "special", what: `a link to ${target}, which is ${linked.what}` });
        else tree.set(r, { kind: "link", target });
      } else if (st.isDirectory()) {
        tree.set(r, { kind: "dir" });
        walk(r, depth + 1);
      } else if (st.isFile()) {
        if (st.size > MAX_FILE) throw new ConfigError(`${dir}/${r}: larger than 1 MiB; not a config file.`, { file: `${dir}/${r}` });
        addFile(r, readFileSync(`${dir}/${r}`), st);
      } else {
        tree.set(r, { kind: "special", what: specialKind(st) });
      }
    }
  };
  walk("", 0);
  return tree;
}

/** Where a setting's content goes: the file a link names (settings may be links, as util-vserver
 * allowed), so that a write through the link keeps it a link. */
function linkedFile(abs: string): string {
  try {
    return lstatSync(abs).isSymbolicLink() ? realpathSync(abs) : abs;
  } catch {
    return abs; // a dangling link is replaced by the file
  }
}

/** Write entries (files and links) below dir, creating parents. */
export function writeConfigEntries(dir: string, entries: Array<[string, ConfigEntry]>): void {
  for (const [rel, e] of entries) {
    const abs = `${dir}/${rel}`;
    mkdirSync(abs.slice(0, abs.lastIndexOf("/")), { recursive: true, mode: 0o755 });
    if (e.kind === "dir") mkdirSync(abs, { recursive: true, mode: 0o755 });
    else if (e.kind === "link") symlinkSync(e.target, abs);
    else if (e.kind === "special") throw new ConfigError(`${abs}: cannot write ${e.what} as a setting.`, { file: abs });
    else writeFileAtomic(linkedFile(abs), e.content, { mode: e.executable ? 0o755 : 0o644, dirMode: 0o755 });
  }
}

// A guest's fstab (reference §2.2): mounts done at start, targets relative to the guest root.

import { ConfigError } from "../../errors";
import { list } from "./values";

/**
 * The fstab entry a runtime's mount error is about. crun says "mount `SRC` to `TARGET`: ERROR"
 * with the target relative to the guest root; runc says "... mounting \"SRC\" to rootfs at
 * \"/TARGET\" ...". Undefined when the error is not about one of the entries.
 */
export function fstabEntryOfMountError(entries: FstabEntry[], message: string): FstabEntry | undefined {
  const m = /mount `[^`]*` to `([^`]*)`/.exec(message) ?? /to rootfs at "([^"]*)"/.exec(message);
  if (!m) return undefined;
  const target = "/" + m[1]!.replace(/^\/+/, "").replace(/\/+$/, "");
  return entries.find((e) => e.target === target);
}

export interface FstabEntry {
  source: string;
  /** Absolute path inside the guest. */
  target: string;
  type: string;
  options: string[];
  /** Where the entry was written: the fstab file and its line (1-based), for errors. */
  file: string;
  line: number;
}

/** util-vserver's built-in default fstab for new guests. */
export const DEFAULT_FSTAB = [
  "none\t/proc\t\tproc\tdefaults\t\t0 0",
  "none\t/tmp\t\ttmpfs\tsize=16m,mode=1777\t0 0",
  "none\t/dev/pts\tdevpts\tgid=5,mode=620\t\t0 0",
].join("\n") + "\n";

export function parseFstab(content: string | undefined, file: string): FstabEntry[] {
  const out: FstabEntry[] = [];
  const lines = (content ?? "").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = list(lines[i])[0];
    if (line === undefined) continue;
    const f = line.split(/\s+/);
    const at = `${file} line ${i + 1}`;
    if (f.length < 3) {
      throw new ConfigError(`${at}: '${line}' needs at least a source, a mount point and a type.`, { file });
    }
    const [source, target, type, opts = "defaults"] = f as [string, string, string, string?];
    if (!target.startsWith("/")) {
      throw new ConfigError(`${at}: mount point '${target}' must be an absolute path inside the guest.`, { file });
    }
    if (target.split("/").includes("..")) {
      throw new ConfigError(`${at}: mount point '${target}' must not contain '..'.`, { file });
    }
    const options = opts.split(",").filter((o) => o && o !== "defaults");
    out.push({ source, target: target.replace(/\/+$/, "") || "/", type, options, file, line: i + 1 });
  }
  return out;
}

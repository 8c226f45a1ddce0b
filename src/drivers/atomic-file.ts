// Records in the run directory are written whole or not at all: a reader (another command, the
// host service) never sees half a file, and a command killed mid-write leaves only a .tmp.

import { mkdirSync, renameSync, writeFileSync } from "node:fs";

export function writeFileAtomic(path: string, data: string, o: { mode?: number; dirMode?: number } = {}): void {
  mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true, mode: o.dirMode ?? 0o700 });
  writeFileSync(`${path}.tmp`, data, { mode: o.mode ?? 0o600 });
  renameSync(`${path}.tmp`, path);
}

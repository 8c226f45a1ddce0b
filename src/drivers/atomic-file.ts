// Records in the run directory are written whole or not at all: a reader (another command, the
// host service) never sees half a file, and a failed write leaves nothing (its .tmp is removed;
// only a command killed mid-write leaves one, which the next write replaces). A full disk fails
// with the file's name, which Node's own "ENOSPC ..., write" lacks. Config settings are written
// the same way (drivers/config-store.ts), so a full disk never leaves a setting empty.

import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { NoSpaceError } from "../errors";
import { faultPoint } from "./fault";

export function writeFileAtomic(path: string, data: string, o: { mode?: number; dirMode?: number } = {}): void {
  const tmp = `${path}.tmp`;
  try {
    mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true, mode: o.dirMode ?? 0o700 });
    faultPoint(`write:${path.slice(path.lastIndexOf("/") + 1)}`, path);
    writeFileSync(tmp, data, { mode: o.mode ?? 0o600 });
    chmodSync(tmp, o.mode ?? 0o600); // a .tmp left by a killed write keeps its old mode otherwise
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOSPC" || code === "EDQUOT") throw new NoSpaceError(`cannot write ${path}: no space left on its file system.`, { file: path });
    throw e;
  }
}

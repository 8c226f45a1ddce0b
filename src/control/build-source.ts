// The source of `build -m rsync -s GUEST|DIR`: which tree that is, and the sources that would copy
// the host, copy the new guest into itself, or copy a tree that is changing.

import { existsSync, realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { UsageError } from "../errors";
import { allRunRecords } from "../drivers/run-state";
import type { Env } from "./env";
import { listGuestNames, loadGuest } from "./guests";
import { unifiedGenerationOf } from "./unify";

const within = (path: string, dir: string) => path === dir || path.startsWith(dir === "/" ? "/" : `${dir}/`);

function realDir(path: string): string | undefined {
  try {
    return statSync(path).isDirectory() ? realpathSync(path) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The directory to copy. `targets` are the directories the build writes (its temporary root and
 * the final root), checked against the source in both directions.
 */
export function rsyncSourceRoot(env: Env, source: string, targets: string[]): string {
  let dir: string;
  let guest: string | undefined;
  // A guest name never holds '/': anything that does is a directory, relative to where the admin is.
  if (source.includes("/")) {
    dir = resolve(source);
  } else {
    const g = loadGuest(env, source);
    if (unifiedGenerationOf(env, source)) {
      throw new UsageError(`rsync method: guest '${source}' is unified (its files are in the shared store); use -m clone, which shares them.`);
    }
    dir = g.vdir;
    guest = source;
  }
  const real = realDir(dir);
  if (!real) throw new UsageError(`rsync method: the source ${dir} does not exist or is not a directory.`);
  if (real === "/") throw new UsageError("rsync method: the source is the host's root; use -m legacy to copy the host's system without its secrets.");
  for (const t of targets) {
    const rt = existsSync(t) ? realpathSync(t) : t;
    if (within(rt, real)) throw new UsageError(`rsync method: the new root ${t} would be inside the source ${real}, so the copy would copy itself.`);
    if (within(real, rt)) throw new UsageError(`rsync method: the source ${real} is inside the new guest's root ${t}.`);
  }
  // A guest's files change while it runs: say so rather than refuse, as util-vserver copied
  // running guests too. The copy is of the moment rsync passes each file.
  const running = new Set(allRunRecords(env.paths).map((r) => r.name));
  const owner = guest ?? listGuestNames(env).find((n) => {
    try {
      return realDir(loadGuest(env, n).vdir) === real;
    } catch {
      return false;
    }
  });
  if (owner && running.has(owner)) env.warn(`guest '${owner}' is running: its files may change while they are copied; stop it first for a consistent copy.`);
  return real;
}

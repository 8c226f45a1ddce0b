// Naming a guest on vserver's command line as util-vserver allowed: its name, its context number,
// or the path of its config directory.

import { realpathSync, statSync } from "node:fs";
import { NotFoundError, UsageError } from "../errors";
import { allRunRecords, isAlive } from "../drivers/run-state";
import type { Env } from "./env";
import { cfgDirOf, guestExists, listGuestNames, loadGuest } from "./guests";

function realDir(path: string): string | undefined {
  try {
    return statSync(path).isDirectory() ? realpathSync(path) : undefined;
  } catch {
    return undefined;
  }
}

/** The guest's name for ARG; a guest whose name is ARG wins over a context number or a path. */
export function guestNameOf(env: Env, arg: string): string {
  if (!arg.includes("/") && guestExists(env, arg)) return arg;
  if (/^\d+$/.test(arg)) {
    const context = Number(arg);
    const running = allRunRecords(env.paths).find((r) => r.context === context && isAlive(r));
    if (running) return running.name;
    const configured = listGuestNames(env).filter((n) => {
      try {
        return loadGuest(env, n).context === context;
      } catch {
        return false;
      }
    });
    if (configured.length === 1) return configured[0]!;
    if (configured.length > 1) throw new UsageError(`context ${context} is configured for several guests (${configured.join(", ")}); name one.`);
    throw new NotFoundError(`no guest named '${arg}' and none with context ${context}.`);
  }
  if (arg.includes("/")) {
    const dir = realDir(arg);
    if (!dir) throw new NotFoundError(`${arg} is not a directory.`, { file: arg });
    const base = dir.slice(dir.lastIndexOf("/") + 1);
    const confDir = realDir(env.paths.confDir);
    if (!confDir || dir !== `${confDir}/${base}` || base.startsWith(".") || !guestExists(env, base)) {
      throw new UsageError(`${arg} is not a guest's config directory in ${env.paths.confDir}; only those can be used (for example ${cfgDirOf(env, "NAME")}).`);
    }
    return base;
  }
  return arg; // a name: the operation reports a guest that does not exist, with its hint
}

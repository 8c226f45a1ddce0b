// Finding guests and loading their config.

import { guestPaths } from "../pure/paths";
import { existsSync, readdirSync, statSync } from "node:fs";
import { NotFoundError, UsageError } from "../errors";
import { readConfigTree } from "../drivers/config-store";
import { parseGuestConfig, type GuestConfig } from "../pure/config/guest-config";
import { isValidGuestName } from "../pure/paths";
import type { Env } from "./env";

export function checkName(name: string): void {
  if (!isValidGuestName(name)) {
    throw new UsageError(`'${name}' is not a valid guest name (letters, digits, '.', '_' and '-', starting with a letter or digit, at most 63 characters).`);
  }
}

export function cfgDirOf(env: Env, name: string): string {
  return guestPaths(env.paths, name).cfgDir;
}

export function guestExists(env: Env, name: string): boolean {
  const d = cfgDirOf(env, name);
  return existsSync(d) && statSync(d).isDirectory();
}

export function listGuestNames(env: Env): string[] {
  try {
    return readdirSync(env.paths.confDir)
      .filter((n) => !n.startsWith(".") && isValidGuestName(n))
      .filter((n) => statSync(`${env.paths.confDir}/${n}`).isDirectory())
      .sort();
  } catch {
    return [];
  }
}

let defaultsCache: ReturnType<typeof readConfigTree> | undefined;

export function loadGuest(env: Env, name: string, opts: { reportWarnings?: boolean } = {}): GuestConfig {
  checkName(name);
  if (!guestExists(env, name)) {
    const legacy = `${env.paths.confDir}/${name}.conf`;
    if (existsSync(legacy)) {
      throw new NotFoundError(`guest '${name}' has only a legacy config (${legacy}); run 'vserver ${name} convert' first.`, { guest: name, file: legacy });
    }
    throw new NotFoundError(`no guest named '${name}' (no directory ${cfgDirOf(env, name)}).`, { guest: name });
  }
  defaultsCache ??= readConfigTree(env.paths.defaultsDir);
  const g = parseGuestConfig({
    name,
    cfgDir: cfgDirOf(env, name),
    guest: readConfigTree(cfgDirOf(env, name)),
    defaults: defaultsCache,
    vdirBase: env.paths.vdirBase,
  });
  if (opts.reportWarnings) for (const w of g.warnings) env.warn(`${w.file}: ${w.message}`);
  return g;
}

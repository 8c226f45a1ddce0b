// Finding guests and loading their config. A guest's settings come from one of two sources, read
// by the one parser (pure/config/guest-config.ts): its directory /etc/vservers/NAME/, or, when
// there is none, the legacy file /etc/vservers/NAME.conf, read as data every time and never run
// (pure/config/legacy-conf.ts). The directory wins when both exist (after `convert`).

import { guestPaths } from "../pure/paths";
import { readdirSync, statSync } from "node:fs";
import { ConfigError, NotFoundError, UsageError, VsError } from "../errors";
import { readConfigFile, readConfigTree } from "../drivers/config-store";
import { parseGuestConfig, type ConfigSources, type GuestConfig } from "../pure/config/guest-config";
import type { ConfigWarning } from "../pure/config/known-keys";
import { legacyOriginOf, legacyToEntries, skippedLineMessage } from "../pure/config/legacy-conf";
import { parseInterfaces } from "../pure/config/interfaces";
import { entriesTree, type ConfigTree } from "../pure/config/tree";
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

/** /etc/vservers/NAME.conf and NAME.sh: a legacy guest's config and hook script. */
export function legacyFilesOf(env: Env, name: string): { conf: string; script: string } {
  const conf = guestPaths(env.paths, name).legacyConf;
  return { conf, script: conf.replace(/\.conf$/, ".sh") };
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The guest has a config directory (the layout settings are written into). */
export function hasConfigDir(env: Env, name: string): boolean {
  return isDir(cfgDirOf(env, name));
}

/** A guest of this name is configured: by its directory, or by a legacy NAME.conf. */
export function guestExists(env: Env, name: string): boolean {
  return hasConfigDir(env, name) || isFile(legacyFilesOf(env, name).conf);
}

export function listGuestNames(env: Env): string[] {
  let entries: string[];
  try {
    entries = readdirSync(env.paths.confDir);
  } catch {
    return [];
  }
  const names = new Set<string>();
  for (const n of entries) {
    if (n.startsWith(".")) continue;
    if (isValidGuestName(n) && isDir(`${env.paths.confDir}/${n}`)) names.add(n);
    const legacy = /^(.+)\.conf$/.exec(n)?.[1];
    if (legacy && isValidGuestName(legacy) && isFile(`${env.paths.confDir}/${n}`)) names.add(legacy);
  }
  return [...names].sort();
}

/**
 * Settings are written only into a guest's directory: a legacy NAME.conf is never rewritten (it
 * may be shared with, or kept for, the original tools, and writing shell syntax back is where data
 * would turn into code). `what` names the change, for the sentence.
 */
export function requireConfigDir(env: Env, name: string, what: string): void {
  if (hasConfigDir(env, name) || !guestExists(env, name)) return;
  const { conf } = legacyFilesOf(env, name);
  throw new VsError(`${what}: guest '${name}' is configured by the legacy file ${conf}, which is never rewritten; run 'vserver ${name} convert' first.`, { guest: name, file: conf });
}

/** The settings of the legacy file as the directory layout's, with where each came from. */
function legacySources(env: Env, name: string): Pick<ConfigSources, "guest" | "legacy"> & { warnings: ConfigWarning[] } {
  const files = legacyFilesOf(env, name);
  const m = legacyToEntries(readConfigFile(files.conf), files.conf);
  if (m.skipped.length) throw new ConfigError(skippedLineMessage(files.conf, m.skipped[0]!, name), { guest: name, file: files.conf });
  const guest = entriesTree(m.entries);
  const origin = legacyOriginOf(m, files.conf);
  // The addresses are checked here, so that a bad IPROOT names its line before anything is made.
  const cfgDir = cfgDirOf(env, name);
  try {
    parseInterfaces(guest, cfgDir);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // The parser names a file of the directory layout: name the variable's line instead.
    const named = e.message.startsWith(`${cfgDir}/`) ? /^(\S+?): ([^]*)$/.exec(e.message) : null;
    const rel = named ? named[1]!.slice(cfgDir.length + 1) : "";
    const where = origin(rel) ?? origin(`${rel.split("/").slice(0, 2).join("/")}/ip`) ?? files.conf;
    throw new ConfigError(`${where}: ${named ? named[2] : e.message}`, { guest: name, file: files.conf });
  }
  return { guest, legacy: { ...files, origin }, warnings: m.warnings };
}

/** A guest's settings as the directory layout's tree, from whichever source it has. */
export function configTreeOf(env: Env, g: GuestConfig): ConfigTree {
  return g.legacy ? legacySources(env, g.name).guest : readConfigTree(g.cfgDir);
}

/**
 * `.defaults` read once per command (one Env per command), not once per process: a worker of the
 * host service may serve several commands, and an edit between two must be seen by the second.
 */
const defaultsOf = new WeakMap<Env, ReturnType<typeof readConfigTree>>();

export function loadGuest(env: Env, name: string, opts: { reportWarnings?: boolean } = {}): GuestConfig {
  checkName(name);
  if (!guestExists(env, name)) {
    throw new NotFoundError(`no guest named '${name}' (no directory ${cfgDirOf(env, name)}).`, { guest: name });
  }
  const legacy = hasConfigDir(env, name) ? undefined : legacySources(env, name);
  let defaults = defaultsOf.get(env);
  if (!defaults) defaultsOf.set(env, (defaults = readConfigTree(env.paths.defaultsDir)));
  const g = parseGuestConfig({
    name,
    cfgDir: cfgDirOf(env, name),
    ...(legacy ? { guest: legacy.guest, legacy: legacy.legacy } : { guest: readConfigTree(cfgDirOf(env, name)) }),
    defaults,
    vdirBase: env.paths.vdirBase,
  });
  // Unknown or unsupported variables of the legacy file: one warning each, as for a directory's files.
  if (legacy) g.warnings.unshift(...legacy.warnings);
  if (opts.reportWarnings) for (const w of g.warnings) env.warn(`${w.file}: ${w.message}`);
  return g;
}

// `vserver NAME build -m METHOD ...`: a new guest, config and root. The work happens under
// temporary names that are renamed into place only when everything succeeded, so a failed or
// interrupted build (even kill -9) leaves no guest behind; debris of a killed build is removed by
// the next build of that name.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { acquireLock } from "../drivers/lock";
import { closeBarrier } from "../drivers/barrier";
import { barrierWarning } from "./barrier-check";
import { contextsMappedOnHost, contextsOfHostUsers } from "./guest-ids";
import { ConfigError, UsageError, VsError, AlreadyRunningError, NoSpaceError } from "../errors";
import { writeConfigEntries } from "../drivers/config-store";
import { populateBusybox } from "../drivers/build/busybox";
import { populateSkeleton } from "../drivers/build/skeleton";
import { parseDebootstrapArgs, populateDebootstrap } from "../drivers/build/debootstrap";
import { copyGuestRoot, extractTemplate } from "../drivers/build/copy-tree";
import { rsyncTree } from "../drivers/build/rsync-tree";
import { copyHostSystem } from "../drivers/build/legacy-host";
import { unpackOciImage } from "../drivers/build/oci-image";
import { imageCommand, parseLegacyArgs, parseOciArgs, parseRsyncArgs } from "../pure/build-method-args";
import { rsyncSourceRoot } from "./build-source";
import { GuestRoot } from "../drivers/safe-fs";
import { hostResolvConf, writeIdentity } from "../drivers/build/guest-tree";
import { allRunRecords } from "../drivers/run-state";
import { procStartTime } from "../drivers/proc-pid";
import { integer } from "../pure/config/values";
import { BUILD_START, nextFreeContext, STATIC_MAX, STATIC_MIN } from "../pure/context-alloc";
import { DEFAULT_FSTAB } from "../pure/config/fstab";
import { INIT_STYLES } from "../pure/config/guest-config";
import { parseCflags } from "../pure/config/cflags";
import type { ConfigEntry } from "../pure/config/tree";
import type { Env } from "./env";
import { cfgDirOf, checkName, configTreeOf, guestExists, hasConfigDir, legacyFilesOf, listGuestNames, loadGuest } from "./guests";
import { interfaceConfigEntries, type InterfaceDefaults } from "./build-interfaces";
import { writeErr } from "../drivers/output";
import { faultPoint } from "../drivers/fault";
import { forgetUnified, hashifyGuest, requireNothingRunning, requireUnifiable, unifiedGenerationOf } from "./unify";
import { buildLayersDir, cloneUnified, type UnifiedClone } from "./unify-clone";
import { unmountView } from "../drivers/unify/view-mount";
import { createSubvolume, haveBtrfsTools, onBtrfs } from "../drivers/btrfs";

export const BUILD_METHODS = ["busybox", "skeleton", "debootstrap", "clone", "template", "rsync", "legacy", "oci"] as const;
export type BuildMethod = (typeof BUILD_METHODS)[number];

export interface BuildRequest {
  name: string;
  method: BuildMethod;
  context?: string;
  hostname?: string;
  initstyle?: string;
  flags?: string[];
  interfaces?: string[];
  /** --netdev, --netprefix, --netmask, --netbcast: defaults for every interface. */
  interfaceDefaults?: InterfaceDefaults;
  /** --rootdir: the directory the guest's root is made in, instead of /vservers. */
  rootdir?: string;
  force: boolean;
  /** --keep: a failed build leaves its half-made root and config where they are, and says where. */
  keep?: boolean;
  quiet: boolean;
  /** --unified: the new guest's files go into the shared store (docs/unification.md). */
  unified?: boolean;
  methodArgs: string[];
}

export interface BuildResult {
  name: string;
  context: number;
  vdir: string;
  cfgDir: string;
}

/** Contexts named in every guest's config plus those of running guests. */
export function usedContexts(env: Env): Map<number, string> {
  const used = new Map<number, string>();
  // Builds in progress hold the number they were given in their temporary config directory. They
  // are looked at before the finished guests: a build that renames its directory into place in
  // between is then seen in one of the two passes, never missed by both.
  try {
    for (const d of readdirSync(env.paths.confDir)) {
      const m = /^\.(.+)\.build-(\d+)$/.exec(d);
      if (!m || procStartTime(Number(m[2])) === undefined) continue;
      try {
        const c = readFileSync(`${env.paths.confDir}/${d}/context`, "utf8").trim();
        if (/^\d+$/.test(c)) used.set(Number(c), m[1]!);
      } catch {}
    }
  } catch {}
  for (const n of listGuestNames(env)) {
    try {
      // A legacy guest's S_CONTEXT is read through its loader; a directory's file directly, so
      // that one guest's bad setting elsewhere never hides the number it holds.
      const c = hasConfigDir(env, n) ? readFileSync(`${cfgDirOf(env, n)}/context`, "utf8").trim() : String(loadGuest(env, n).context ?? "");
      if (/^\d+$/.test(c)) used.set(Number(c), n);
    } catch {}
  }
  for (const r of allRunRecords(env.paths)) used.set(r.context, r.name);
  return used;
}

function debrisOf(dir: string, name: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.startsWith(`.${name}.build-`)).map((f) => `${dir}/${f}`);
  } catch {
    return [];
  }
}

/** Remove the temporary trees of builds of this name whose process is gone. */
/** A full disk during a build: Node's ENOSPC names no file, so name where the build was writing. */
function noSpaceNamed(e: unknown, where: string): unknown {
  if (e instanceof NoSpaceError) return new VsError(`the build ran out of space writing ${e.file ?? where}; nothing was kept.`, { file: e.file ?? where });
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== "ENOSPC" && code !== "EDQUOT") return e;
  return new VsError(`the build ran out of space writing ${(e as NodeJS.ErrnoException).path ?? where}; nothing was kept.`, { file: (e as NodeJS.ErrnoException).path ?? where });
}

function removeDebris(env: Env, name: string, rootBase: string): void {
  const layers = buildLayersDir(env, name);
  for (const dir of new Set([env.paths.confDir, env.paths.vdirBase, rootBase, layers.slice(0, layers.lastIndexOf("/"))])) {
    for (const d of debrisOf(dir, name)) {
      const pid = Number(/\.build-(\d+)(?:\.oci)?$/.exec(d)?.[1]);
      if (pid && procStartTime(pid) !== undefined) continue;
      // A killed clone of a unified guest may have left its overlay on its new root.
      unmountView(d, true);
      rmSync(d, { recursive: true, force: true });
    }
  }
}

/**
 * The new root, empty. On btrfs it is a subvolume of its own, so that its qgroup charges exactly
 * the guest's files (dlimits/); it is made under the temporary name and renamed into place like a
 * directory, which keeps the build atomic.
 */
function makeGuestRoot(env: Env, tmpRoot: string, rootBase: string): void {
  if (!onBtrfs(rootBase)) {
    mkdirSync(tmpRoot, { mode: 0o755 });
    return;
  }
  if (!haveBtrfsTools()) {
    env.warn(`${rootBase} is on btrfs but the btrfs command (btrfs-progs) is not installed, so the guest's root is a plain directory and disk limits (dlimits/) cannot be applied to it.`);
    mkdirSync(tmpRoot, { mode: 0o755 });
    return;
  }
  createSubvolume(tmpRoot, 0o755);
}

function parseMethodArgs(method: BuildMethod, args: string[]) {
  const opt = (names: string[]) => {
    const i = args.findIndex((a) => names.includes(a));
    if (i < 0) return undefined;
    const v = args[i + 1];
    if (v === undefined) throw new UsageError(`${method} method: ${args[i]} needs a value.`);
    return v;
  };
  if (method === "clone") {
    const src = opt(["-s", "--source"]);
    if (!src) throw new UsageError("clone method: -s OTHER (the guest or directory to copy) is required.");
    return { source: src };
  }
  if (method === "template") {
    const t = opt(["-t", "--template"]);
    if (!t) throw new UsageError("template method: -t ARCHIVE (a root-filesystem tarball) is required.");
    return { archive: t };
  }
  if (method === "rsync") return parseRsyncArgs(args);
  if (method === "legacy") return parseLegacyArgs(args);
  if (method === "oci") return parseOciArgs(args);
  return {};
}

function allocateContext(env: Env, req: BuildRequest): number {
  const used = usedContexts(env);
  used.forEach((owner, n) => owner === req.name && used.delete(n));
  if (req.context !== undefined) {
    const context = integer(req.context, "--context", { min: STATIC_MIN, max: STATIC_MAX, what: `a context number from ${STATIC_MIN} to ${STATIC_MAX}` });
    if (used.has(context)) throw new UsageError(`--context: context ${context} is already used by guest '${used.get(context)}'.`);
    return context;
  }
  let next: number | undefined;
  try {
    const raw = readFileSync(`${env.paths.defaultsDir}/context.next`, "utf8").trim();
    next = integer(raw, `${env.paths.defaultsDir}/context.next`, { min: STATIC_MIN, max: STATIC_MAX });
  } catch (e) {
    if (e instanceof ConfigError) throw e;
  }
  const n = nextFreeContext([...used.keys(), ...contextsOfHostUsers(), ...contextsMappedOnHost()], { start: BUILD_START, next });
  if (n === undefined) throw new VsError("no free context number is left between 40000 and 49151.");
  return n;
}

export async function buildGuest(env: Env, req: BuildRequest): Promise<BuildResult> {
  checkName(req.name);
  if (!(BUILD_METHODS as readonly string[]).includes(req.method)) {
    throw new UsageError(`unknown build method '${req.method}' (one of ${BUILD_METHODS.join(", ")}).`);
  }
  if (req.initstyle && !(INIT_STYLES as readonly string[]).includes(req.initstyle)) {
    throw new UsageError(`--initstyle: unknown init style '${req.initstyle}' (one of ${INIT_STYLES.join(", ")}).`);
  }
  if (req.hostname !== undefined && (!req.hostname || req.hostname.length > 64 || /[\s/]/.test(req.hostname))) {
    throw new UsageError(`--hostname: '${req.hostname}' is not a valid host name.`);
  }
  if (req.flags?.length) parseCflags(req.flags, "--flags");
  const ifaceEntries = interfaceConfigEntries(req.interfaces ?? [], req.interfaceDefaults);
  if (req.rootdir !== undefined && (!req.rootdir.startsWith("/") || req.rootdir.split("/").includes(".."))) {
    throw new UsageError(`--rootdir: '${req.rootdir}' is not an absolute path without '..'.`);
  }
  const rootBase = (req.rootdir ?? env.paths.vdirBase).replace(/\/+$/, "") || "/";
  const methodOpts = parseMethodArgs(req.method, req.methodArgs);
  const debootstrapArgs = req.method === "debootstrap" ? parseDebootstrapArgs(req.methodArgs) : undefined;

  if (req.unified) requireUnifiable(env, req.name);
  removeDebris(env, req.name, rootBase);
  const cfgDir = cfgDirOf(env, req.name);
  const vdir = `${rootBase}/${req.name}`;
  if (guestExists(env, req.name) || existsSync(vdir)) {
    if (!req.force) {
      const what = hasConfigDir(env, req.name) ? cfgDir : guestExists(env, req.name) ? legacyFilesOf(env, req.name).conf : vdir;
      throw new VsError(`guest '${req.name}' already exists (${what}); use --force to replace it.`, { guest: req.name });
    }
    const running = allRunRecords(env.paths).find((r) => r.name === req.name);
    if (running) throw new AlreadyRunningError(`guest '${req.name}' is running; stop it before replacing it with --force.`, { guest: req.name });
  }

  const tmpCfg = `${env.paths.confDir}/.${req.name}.build-${process.pid}`;
  const tmpRoot = `${rootBase}/.${req.name}.build-${process.pid}`;
  // The oci method's scratch layout (from a docker archive); removed with the rest, and as debris.
  const ociWork = `${tmpRoot}.oci`;
  const rsyncSource = req.method === "rsync" ? rsyncSourceRoot(env, (methodOpts as ReturnType<typeof parseRsyncArgs>).source, [vdir, tmpRoot]) : undefined;
  mkdirSync(env.paths.confDir, { recursive: true, mode: 0o755 });
  // Context number: chosen and written down under a lock, so two builds at once never get the same.
  const allocation = await acquireLock(env.paths.lockDir, ".contexts", "context allocation", 60);
  let context: number;
  try {
    context = allocateContext(env, req);
    mkdirSync(tmpCfg, { mode: 0o755 });
    faultPoint("build.context", `${tmpCfg}/context`);
    writeFileSync(`${tmpCfg}/context`, `${context}\n`);
  } catch (e) {
    rmSync(tmpCfg, { recursive: true, force: true });
    throw noSpaceNamed(e, tmpCfg);
  } finally {
    allocation.release();
  }

  let clone: UnifiedClone | undefined;
  const cleanup = () => {
    clone?.abort();
    rmSync(tmpCfg, { recursive: true, force: true });
    rmSync(tmpRoot, { recursive: true, force: true });
    rmSync(ociWork, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals) => {
    cleanup();
    writeErr(`vserver: build of '${req.name}' interrupted; nothing was kept.\n`);
    process.exit(sig === "SIGINT" ? 130 : 143);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
  try {
    mkdirSync(env.paths.confDir, { recursive: true, mode: 0o755 });
    // The barrier closes the default base of guest roots; a --rootdir elsewhere is the admin's.
    if (rootBase === env.paths.vdirBase) {
      const was = closeBarrier(env.paths.vdirBase);
      if (was !== undefined) env.warn(barrierWarning(env.paths.vdirBase, was));
    } else {
      mkdirSync(rootBase, { recursive: true, mode: 0o755 });
    }
    makeGuestRoot(env, tmpRoot, rootBase);
    mkdirSync(env.paths.logDir, { recursive: true, mode: 0o750 });
    const log = `${env.paths.logDir}/${req.name}.build.log`;
    writeFileSync(log, `=== ${new Date().toISOString()} build of '${req.name}' with ${req.method}\n`);
    const hostname = req.hostname ?? req.name;
    let style = req.initstyle;
    const extraConfig: Array<[string, ConfigEntry]> = [];

    switch (req.method) {
      case "busybox":
        populateBusybox(tmpRoot);
        break;
      case "skeleton": {
        const cmd = req.methodArgs[0] === "--" ? req.methodArgs.slice(1) : req.methodArgs;
        await populateSkeleton(tmpRoot, cmd, req.quiet);
        break;
      }
      case "debootstrap": {
        const a = debootstrapArgs!;
        if ((style ?? "sysv") === "sysv") a.extra = withInclude(a.extra, "sysv-rc");
        await populateDebootstrap(tmpRoot, a, { cacheDir: env.paths.cacheDir, defaultsDir: env.paths.defaultsDir, quiet: req.quiet, log });
        break;
      }
      case "clone": {
        const src = (methodOpts as { source: string }).source;
        let srcRoot = src;
        if (!src.startsWith("/")) {
          const other = loadGuest(env, src);
          srcRoot = other.vdir;
          // The clone keeps the source's settings, minus what makes a guest itself.
          const skip = new Set(["context", "name", "vdir", "run", "cache", "uts/nodename", "interfaces"]);
          for (const [rel, e] of configTreeOf(env, other)) {
            const top = rel.split("/")[0]!;
            if (skip.has(rel) || skip.has(top) || e.kind === "dir" || e.kind === "special") continue;
            extraConfig.push([rel, e]);
          }
        }
        const unifiedSource = src.startsWith("/") ? undefined : unifiedGenerationOf(env, src);
        if (unifiedSource) {
          // Its upper changes while it runs: copied only from a stopped guest (the source's lock
          // is not taken, as for a plain clone; a start meanwhile is the admin's race).
          requireNothingRunning(env, loadGuest(env, src), "cloning it");
          // The clone shares the source's objects: only its metadata and its own files are copied.
          clone = cloneUnified(env, unifiedSource, req.name, tmpRoot, (root) => writeIdentity(root, { hostname, resolvConf: hostResolvConf(env.paths.defaultsDir) }));
        } else {
          await copyGuestRoot(srcRoot, tmpRoot, req.quiet);
        }
        break;
      }
      case "template":
        await extractTemplate((methodOpts as { archive: string }).archive, tmpRoot, req.quiet);
        break;
      case "rsync": {
        const { rules } = methodOpts as ReturnType<typeof parseRsyncArgs>;
        const filter = rules.map((r) => `--${r.kind}=${r.pattern}`);
        await rsyncTree({ what: rsyncSource!, src: rsyncSource!, dest: tmpRoot, filter, log, quiet: req.quiet });
        break;
      }
      case "legacy": {
        const { rules } = methodOpts as ReturnType<typeof parseLegacyArgs>;
        const p = env.paths;
        const stateDirs = [p.confDir, p.vdirBase, rootBase, p.runDir, p.cacheDir, p.logDir];
        await copyHostSystem(tmpRoot, { stateDirs, adminRules: rules, log, quiet: req.quiet });
        break;
      }
      case "oci": {
        const image = await unpackOciImage(methodOpts as ReturnType<typeof parseOciArgs>, tmpRoot, ociWork, log);
        rmSync(ociWork, { recursive: true, force: true });
        extraConfig.push(...ociConfigEntries(image.reference, image.config, style));
        break;
      }
    }

    if (!clone) writeIdentity(tmpRoot, { hostname, resolvConf: hostResolvConf(env.paths.defaultsDir) });
    if (COPIED_METHODS.has(req.method) && (style ?? "sysv") === "sysv") warnIfNoRc(env, tmpRoot);
    faultPoint("build.after-root", `${tmpRoot}/etc/hostname`);

    const entries: Array<[string, ConfigEntry]> = [
      ...extraConfig.filter(([rel]) => !(rel === "apps/init/style" && style)),
      // `context` is already there, written under the allocation lock: rewriting it would
      // truncate it for a moment, and a concurrent build reading it then would miss the number.
      ["uts/nodename", { kind: "file", content: `${hostname}\n`, executable: false }],
      ["vdir", { kind: "link", target: vdir }],
      ...ifaceEntries,
    ];
    if (!extraConfig.some(([r]) => r === "fstab")) entries.push(["fstab", { kind: "file", content: DEFAULT_FSTAB, executable: false }]);
    if (style) entries.push(["apps/init/style", { kind: "file", content: `${style}\n`, executable: false }]);
    if (req.flags?.length) entries.push(["cflags", { kind: "file", content: req.flags.join("\n") + "\n", executable: false }]);
    writeConfigEntries(tmpCfg, entries);

    if (req.force) {
      rmSync(cfgDir, { recursive: true, force: true });
      rmSync(vdir, { recursive: true, force: true });
      forgetUnified(env, req.name);
    }
    faultPoint("build.before-rename", vdir);
    const unifiedAlready = !!clone;
    clone?.commit();
    clone = undefined;
    renameSync(tmpRoot, vdir);
    renameSync(tmpCfg, cfgDir);
    if (req.unified && !unifiedAlready) {
      try {
        await hashifyGuest(env, loadGuest(env, req.name));
      } catch (e) {
        throw new VsError(`guest '${req.name}' was built with a plain tree but not unified: ${(e as Error).message}`, { guest: req.name });
      }
    }
    return { name: req.name, context, vdir, cfgDir };
  } catch (e) {
    if (!req.keep) {
      cleanup();
      throw noSpaceNamed(e, tmpRoot);
    }
    const err = noSpaceNamed(e, tmpRoot) as Error;
    err.message = `${err.message.replace(/\.$/, "")}; kept for inspection (--keep): ${tmpRoot} and ${tmpCfg}, which the next build of '${req.name}' removes.`;
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onSignal);
  }
}

/** Methods whose tree comes from elsewhere and may have no sysv rc (a systemd host, a container image). */
const COPIED_METHODS = new Set<BuildMethod>(["rsync", "legacy", "oci"]);

/** Said at build time, not first at start: the default init style needs an rc script the tree may lack. */
function warnIfNoRc(env: Env, root: string): void {
  const g = new GuestRoot(root);
  try {
    if (g.isExecutable("etc/init.d/rc") || g.isExecutable("etc/rc.d/rc")) return;
  } finally {
    g.close();
  }
  env.warn("the new root has no /etc/init.d/rc, which the sysv init style runs at start; build with --initstyle plain (the tree's /sbin/init, or an image's own command) or set apps/init/cmd.start.");
}

/** Add a package to debootstrap's --include list. */
export function withInclude(extra: string[], pkg: string): string[] {
  const i = extra.findIndex((x) => x.startsWith("--include="));
  if (i < 0) return [...extra, `--include=${pkg}`];
  const list = extra[i]!.slice("--include=".length).split(",").filter(Boolean);
  if (!list.includes(pkg)) list.push(pkg);
  const out = [...extra];
  out[i] = `--include=${list.join(",")}`;
  return out;
}

/**
 * What the guest's config keeps of an image: where it came from and its configuration, for the
 * admin. A guest is a whole system started by its init style, so the image's command is used only
 * when the admin asked for `--initstyle plain`: then it is the guest's PID 1 (apps/init/cmd.start),
 * as a container runtime would run it. Env, WorkingDir and User have no place in a guest's config
 * and are not applied (docs/build.md).
 */
function ociConfigEntries(reference: string, config: unknown, style: string | undefined): Array<[string, ConfigEntry]> {
  const file = (content: string): ConfigEntry => ({ kind: "file", content, executable: false });
  const out: Array<[string, ConfigEntry]> = [
    ["apps/build/oci/image", file(`${reference}\n`)],
    ["apps/build/oci/config.json", file(JSON.stringify((config as { config?: unknown })?.config ?? {}, null, 2) + "\n")],
  ];
  const cmd = imageCommand(config);
  // cmd.start holds one word a line: a word with a line break would become two.
  if (style === "plain" && cmd.some((w) => /[\n\r]/.test(w))) throw new UsageError(`oci method: the image's command has a word with a line break, which apps/init/cmd.start cannot hold: ${JSON.stringify(cmd)}.`);
  if (style === "plain" && cmd.length) out.push(["apps/init/cmd.start", file(cmd.join("\n") + "\n")]);
  return out;
}

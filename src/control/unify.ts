// Unification (docs/unification.md): a guest's files in the store shared by all guests, its root
// an overlay of its metadata tree, the store and its own upper directory. hashify moves a
// stopped guest into the store (again after upgrades, to share what they replaced), `unify -R`
// gives it back a plain tree, gc drops objects no guest refers to. Every step makes the new state
// complete beside the old and switches in one rename, so a killed command leaves every guest
// startable; the next command on the guest removes what was left (settleUnify).

import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmdirSync, statSync, symlinkSync, unlinkSync } from "node:fs";
import { AlreadyRunningError, VsError } from "../errors";
import type { GuestConfig } from "../pure/config/guest-config";
import { generation, unifyPaths, type Generation, type UnifyPaths } from "../pure/unify/layout";
import { REDIRECT_XATTR, digestOfRedirect, digestOfStoreEntry, objectRelPath } from "../pure/unify/objects";
import { buildMetadataTree, type BuildStats, type Progress } from "../drivers/unify/generation";
import { currentGeneration, generationNumbers, leaveUnified, removeStale, removeTree, switchGeneration } from "../drivers/unify/guest-layers";
import { describeStorage, requireUnifiableStorage } from "../drivers/unify/storage";
import { mountView, mountWritable, unmountView } from "../drivers/unify/view-mount";
import { copyGeneration } from "../drivers/unify/clone-layers";
import { getXattr } from "../drivers/unify/xattrs";
import { acquireLock, type Lock } from "../drivers/lock";
import { faultPoint } from "../drivers/fault";
import { runOk } from "../drivers/process";
import type { Env } from "./env";
import { observeGuest } from "./guest-state";
import { liveRecord } from "./info";

export function unifyPathsOf(env: Env, name: string): UnifyPaths {
  return unifyPaths(env.paths.vdirBase, env.paths.runDir, name);
}

/** The store's lock: hashify and gc never run at once, so gc never drops an object being linked. */
export function lockStore(env: Env): Promise<Lock> {
  return acquireLock(env.paths.lockDir, ".unify-store", "the unification store");
}

function isEmptyDir(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch {
    return true;
  }
}

/**
 * Finish or undo what a killed unification command left, under the guest's lock. A unified guest
 * whose root directory holds files was being given back a plain tree, which was complete before
 * it was renamed there: that tree is the guest's now.
 */
export function settleUnify(env: Env, g: GuestConfig): Generation | undefined {
  const u = unifyPathsOf(env, g.name);
  unmountView(u.view);
  if (currentGeneration(u) && !isEmptyDir(g.vdir)) leaveUnified(u);
  removeStale(u);
  const cur = currentGeneration(u);
  // hashify moves the former root aside before it makes the empty mount point again.
  if (cur) mkdirSync(g.vdir, { recursive: true, mode: 0o755 });
  return cur;
}

function requireStopped(env: Env, g: GuestConfig, what: string): void {
  if (observeGuest(env, g.name, g.context).running) {
    throw new AlreadyRunningError(`guest '${g.name}' is running; stop it before ${what}: files of a running guest are never moved under it.`, { guest: g.name });
  }
}

function requireSameFileSystem(g: GuestConfig, u: UnifyPaths): void {
  if (statSync(g.vdir).dev !== statSync(u.pool).dev) {
    throw new VsError(`the root of guest '${g.name}' (${g.vdir}) is not on the file system of the unification pool ${u.pool} (${describeStorage(u.pool)}); move it there first.`, { guest: g.name, file: `${g.cfgDir}/vdir` });
  }
}

export interface HashifyResult extends BuildStats {
  storage: string;
  wasUnified: boolean;
}

/** Copy the attributes of the tree's top directory, which an overlay takes from its upper. */
function copyRootAttrs(from: string, to: string): void {
  const st = lstatSync(from);
  chownSync(to, st.uid, st.gid);
  chmodSync(to, st.mode & 0o7777);
}

/** A full disk in one plain sentence naming the pool; anything else as it is. */
function noSpace(e: unknown, u: UnifyPaths, what: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== "ENOSPC" && code !== "EDQUOT") return e;
  return new VsError(`${what} ran out of space on the file system of ${u.pool} (${describeStorage(u.pool)}); the guest was left as it was.`, { file: u.pool });
}

/** Build a new generation of `name` from `source` (a plain tree or a merged view); on failure, nothing of it is left. */
function newGeneration(u: UnifyPaths, source: string, progress?: Progress): { gen: Generation; n: number; stats: BuildStats } {
  mkdirSync(u.guest, { recursive: true, mode: 0o700 });
  const n = Math.max(0, ...generationNumbers(u)) + 1;
  const gen = generation(u.guest, n);
  mkdirSync(gen.dir, { mode: 0o700 });
  try {
    const stats = buildMetadataTree(source, gen.meta, u.store, progress);
    mkdirSync(gen.upper, { mode: 0o755 });
    copyRootAttrs(gen.meta, gen.upper);
    mkdirSync(gen.work, { mode: 0o700 });
    faultPoint("unify.after-generation", gen.dir);
    // Durable before it is put in force: a crash after the switch must find it whole.
    runOk(["sync", "-f", gen.dir], {}, `flushing ${gen.dir}`);
    return { gen, n, stats };
  } catch (e) {
    removeTree(gen.dir);
    throw e;
  }
}

/** `vserver NAME hashify`: the guest's files into the store, its root a metadata tree. */
export async function hashifyGuest(env: Env, g: GuestConfig, progress?: Progress): Promise<HashifyResult> {
  requireStopped(env, g, "hashify");
  const u = unifyPathsOf(env, g.name);
  mkdirSync(env.paths.vdirBase, { recursive: true });
  requireUnifiableStorage(u.pool);
  const lock = await lockStore(env);
  try {
    const cur = settleUnify(env, g);
    if (!cur) requireSameFileSystem(g, u);
    mkdirSync(u.store, { recursive: true, mode: 0o700 });
    let built: ReturnType<typeof newGeneration>;
    try {
      if (cur) {
        mountView(u.view, { upper: cur.upper, meta: cur.meta, store: u.store });
        try {
          built = newGeneration(u, u.view, progress);
        } finally {
          unmountView(u.view);
        }
      } else {
        built = newGeneration(u, g.vdir, progress);
      }
    } catch (e) {
      removeStale(u);
      throw noSpace(e, u, `hashify of '${g.name}'`);
    }
    switchGeneration(u, built.n);
    faultPoint("unify.after-switch");
    if (!cur) {
      // The plain tree goes aside in one rename; the root directory is made again, empty, as
      // the guest's mount point (start makes it too, should this command die in between).
      const st = lstatSync(g.vdir);
      renameSync(g.vdir, u.oldRoot);
      mkdirSync(g.vdir, { mode: st.mode & 0o7777 });
      chownSync(g.vdir, st.uid, st.gid);
    }
    removeStale(u);
    return { ...built.stats, storage: describeStorage(u.pool), wasUnified: !!cur };
  } finally {
    lock.release();
  }
}

/** The generation in force of a guest, or undefined when it is not unified. */
export function unifiedGenerationOf(env: Env, name: string): Generation | undefined {
  return currentGeneration(unifyPathsOf(env, name));
}

/**
 * Where the host looks at a guest's files (for its programs): a running unified guest's root is
 * mounted in the runtime's namespace only, so it is seen through its PID 1; else its root.
 */
export function lookupRoot(env: Env, g: GuestConfig): string {
  const rec = unifiedGenerationOf(env, g.name) ? liveRecord(env, g.name) : undefined;
  return rec ? `/proc/${rec.pid}/root/.` : g.vdir;
}

/** Where a build of `name` keeps the new guest's layers until it is renamed into place. */
export function buildLayersDir(env: Env, name: string): string {
  return `${unifyPathsOf(env, name).guests}/.${name}.build-${process.pid}`;
}

export interface UnifiedClone {
  /** Put the clone's layers in place (just before the build renames its root and config). */
  commit(): void;
  abort(): void;
}

/**
 * `build -m clone` of a unified guest: the clone's layers are copies of the source's metadata
 * tree and upper, sharing every object; `populate` writes the clone's own files (its identity)
 * through the clone's overlay, mounted on its new, empty root for the moment.
 */
export function cloneUnified(env: Env, source: Generation, name: string, root: string, populate: (root: string) => void): UnifiedClone {
  const u = unifyPathsOf(env, name);
  const dir = buildLayersDir(env, name);
  const gen = generation(dir, 1);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    copyGeneration(source, gen);
    mountWritable(root, { meta: gen.meta, store: u.store, upper: gen.upper, work: gen.work });
    try {
      populate(root);
    } finally {
      unmountView(root, true);
    }
    symlinkSync("gen-1", `${dir}/current`);
  } catch (e) {
    removeTree(dir);
    throw e;
  }
  return {
    commit() {
      if (existsSync(u.guest)) forgetUnified(env, name);
      renameSync(dir, u.guest);
    },
    abort() {
      unmountView(root, true);
      removeTree(dir);
    },
  };
}

/** Before a build of `name`: refuse storage that cannot hold unified guests, before anything is made. */
export function requireUnifiable(env: Env, name: string): void {
  mkdirSync(env.paths.vdirBase, { recursive: true });
  requireUnifiableStorage(unifyPathsOf(env, name).pool);
}

/** A deleted guest's layers (its objects stay in the store until gc). */
export function forgetUnified(env: Env, name: string): void {
  const u = unifyPathsOf(env, name);
  unmountView(u.view);
  removeTree(u.guest);
}

/** `vserver NAME unify -R`: a plain tree again, copied from the merged view. */
export async function deunifyGuest(env: Env, g: GuestConfig): Promise<void> {
  requireStopped(env, g, "unify -R");
  const u = unifyPathsOf(env, g.name);
  const cur = settleUnify(env, g);
  if (!cur) throw new VsError(`guest '${g.name}' is not unified; nothing to undo.`, { guest: g.name });
  try {
    mountView(u.view, { upper: cur.upper, meta: cur.meta, store: u.store });
    try {
      runOk(["cp", "-a", "--reflink=auto", "--", `${u.view}/.`, u.plainCopy], {}, `copying the merged tree of '${g.name}'`);
    } finally {
      unmountView(u.view);
    }
    runOk(["sync", "-f", u.plainCopy], {}, `flushing ${u.plainCopy}`);
    faultPoint("unify.before-plain-rename", u.plainCopy);
  } catch (e) {
    removeTree(u.plainCopy);
    throw noSpace(e, u, `unify -R of '${g.name}'`);
  }
  // The empty mount point is replaced by the complete copy in one rename.
  try {
    rmdirSync(g.vdir);
  } catch {}
  renameSync(u.plainCopy, g.vdir);
  faultPoint("unify.after-plain-rename");
  leaveUnified(u);
  removeStale(u);
}

export interface GcResult {
  referenced: number;
  removed: number;
  freedBytes: number;
}

/** Every object some generation of some guest points at (a stale generation counts too). */
function referencedObjects(guests: string): Set<string> {
  const out = new Set<string>();
  let names: string[] = [];
  try {
    names = readdirSync(guests);
  } catch {}
  for (const name of names) {
    const dir = `${guests}/${name}`;
    let entries: string[] = [];
    try {
      entries = readdirSync(dir);
    } catch {}
    for (const e of entries) {
      if (!e.startsWith("gen-")) continue;
      const todo = [`${dir}/${e}/meta`];
      while (todo.length) {
        const d = todo.pop()!;
        let list: string[];
        try {
          list = readdirSync(d);
        } catch {
          continue;
        }
        for (const f of list) {
          const p = `${d}/${f}`;
          const st = lstatSync(p);
          if (st.isDirectory()) todo.push(p);
          else if (st.isFile() && st.size > 0) {
            const r = getXattr(p, REDIRECT_XATTR);
            const digest = r && digestOfRedirect(r.toString());
            if (digest) out.add(digest);
          }
        }
      }
    }
  }
  return out;
}

/** `vhashify --gc`: remove the objects no guest refers to (and temporaries of killed commands). */
export async function collectGarbage(env: Env): Promise<GcResult> {
  const u = unifyPathsOf(env, "-");
  const lock = await lockStore(env);
  try {
    const keep = referencedObjects(u.guests);
    const res: GcResult = { referenced: keep.size, removed: 0, freedBytes: 0 };
    let dirs: string[] = [];
    try {
      dirs = readdirSync(u.store);
    } catch {}
    for (const d of dirs) {
      for (const f of readdirSync(`${u.store}/${d}`)) {
        const digest = digestOfStoreEntry(d, f);
        if (digest && keep.has(digest)) continue;
        const p = `${u.store}/${d}/${f}`;
        const st = lstatSync(p);
        faultPoint("unify.gc-remove");
        unlinkSync(p);
        if (digest) {
          res.removed++;
          res.freedBytes += st.blocks * 512;
        }
      }
    }
    return res;
  } finally {
    lock.release();
  }
}

export interface DiskUse {
  unified: boolean;
  /** What the guest itself holds: its upper (unified), or its whole tree. */
  ownBytes: number;
  ownInodes: number;
  /** Its metadata tree: inodes and almost no blocks. */
  metaInodes: number;
  /** Objects of the store it refers to, their bytes, and how many of them other guests use too. */
  sharedObjects: number;
  sharedBytes: number;
  alsoUsedByOthers: number;
}

function walkUsage(top: string, each?: (path: string, st: ReturnType<typeof lstatSync> & {}) => void): { bytes: number; inodes: number } {
  const seen = new Set<number>();
  let bytes = 0;
  const todo = [top];
  while (todo.length) {
    const d = todo.pop()!;
    let list: string[];
    try {
      list = readdirSync(d);
    } catch {
      continue;
    }
    for (const f of list) {
      const p = `${d}/${f}`;
      const st = lstatSync(p);
      if (st.isDirectory()) todo.push(p);
      if (seen.has(st.ino)) continue;
      seen.add(st.ino);
      bytes += st.blocks * 512;
      each?.(p, st);
    }
  }
  return { bytes, inodes: seen.size };
}

function redirectsOf(meta: string): Set<string> {
  const out = new Set<string>();
  walkUsage(meta, (p, st) => {
    if (!st.isFile() || st.size === 0) return;
    const r = getXattr(p, REDIRECT_XATTR);
    const digest = r && digestOfRedirect(r.toString());
    if (digest) out.add(digest);
  });
  return out;
}

/** `vdu NAME`: the guest's own bytes and inodes against what it shares through the store. */
export function diskUse(env: Env, g: GuestConfig): DiskUse {
  const u = unifyPathsOf(env, g.name);
  const cur = currentGeneration(u);
  if (!cur) {
    const own = walkUsage(g.vdir);
    return { unified: false, ownBytes: own.bytes, ownInodes: own.inodes, metaInodes: 0, sharedObjects: 0, sharedBytes: 0, alsoUsedByOthers: 0 };
  }
  const own = walkUsage(cur.upper);
  const meta = walkUsage(cur.meta);
  const mine = redirectsOf(cur.meta);
  const others = new Set<string>();
  for (const other of readdirSync(u.guests)) {
    if (other === g.name) continue;
    const oc = currentGeneration(unifyPathsOf(env, other));
    if (oc) for (const d of redirectsOf(oc.meta)) if (mine.has(d)) others.add(d);
  }
  let sharedBytes = 0;
  for (const d of mine) {
    try {
      sharedBytes += lstatSync(`${u.store}/${objectRelPath(d)}`).blocks * 512;
    } catch {}
  }
  return { unified: true, ownBytes: own.bytes, ownInodes: own.inodes, metaInodes: meta.inodes, sharedObjects: mine.size, sharedBytes, alsoUsedByOthers: others.size };
}

// Unification (docs/unification.md): a guest's files in the store shared by all guests, its root
// an overlay of its metadata tree, the store and its own upper directory. hashify moves a
// stopped guest into the store (again after upgrades, to share what they replaced), `unify -R`
// gives it back a plain tree (gc, vdu and clones are unify-gc.ts, unify-du.ts, unify-clone.ts). Every step makes the new state
// complete beside the old and switches in one rename, so a killed command leaves every guest
// startable; the next command on the guest removes what was left (settleUnify).

import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { AlreadyRunningError, VsError } from "../errors";
import type { GuestConfig } from "../pure/config/guest-config";
import type { ExcludeList } from "../pure/unify/exclude";
import { generation, unifyPaths, type Generation, type UnifyPaths } from "../pure/unify/layout";
import { buildMetadataTree, type BuildStats, type Progress } from "../drivers/unify/generation";
import { currentGeneration, generationNumbers, leaveUnified, removeStale, removeTree, switchGeneration } from "../drivers/unify/guest-layers";
import { describeStorage, requireUnifiableStorage } from "../drivers/unify/storage";
import { mountView, resetWorkDir, unmountView } from "../drivers/unify/view-mount";
import { acquireLock, type Lock } from "../drivers/lock";
import { faultPoint } from "../drivers/fault";
import { runOk } from "../drivers/process";
import type { Env } from "./env";
import { clearLeftovers, observeGuest } from "./guest-state";
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
 * Finish or undo what a killed unification command left, under the guest's lock. A `unify -R`
 * that marked its copy complete and whose copy is gone had renamed it onto the guest's root: that
 * plain tree is the guest's now. Files that merely appear in a unified guest's empty root (a hook
 * wrote there) never make it plain.
 */
export function settleUnify(env: Env, g: GuestConfig): Generation | undefined {
  const u = unifyPathsOf(env, g.name);
  unmountView(u.view);
  if (currentGeneration(u) && existsSync(u.plainCopyComplete) && !existsSync(u.plainCopy)) leaveUnified(u);
  // A hashify killed between moving the plain tree aside and its switch: the tree goes back.
  if (!currentGeneration(u) && existsSync(u.oldRoot)) renameSync(u.oldRoot, g.vdir);
  removeStale(u);
  const cur = currentGeneration(u);
  if (cur) {
    resetWorkDir(cur.work);
    // hashify moves the former root aside before it makes the empty mount point again.
    mkdirSync(g.vdir, { recursive: true, mode: 0o755 });
  }
  return cur;
}

/**
 * The guest must be stopped, and nothing of it left running: processes a killed command left
 * behind could swap a directory for a link while the host walks the tree, so they (and the rest
 * of such a start) are torn down first, as start and stop do.
 */
export async function requireStopped(env: Env, g: GuestConfig, what: string): Promise<void> {
  const seen = observeGuest(env, g.name, g.context);
  if (seen.running) {
    throw new AlreadyRunningError(`guest '${g.name}' is running; stop it before ${what}: files of a running guest are never moved under it.`, { guest: g.name });
  }
  await clearLeftovers(env, g.name, seen, what);
}

/** For a guest whose lock we do not hold (a clone's source): refuse anything running, touch nothing. */
export function requireNothingRunning(env: Env, g: GuestConfig, what: string): void {
  const seen = observeGuest(env, g.name, g.context);
  if (seen.running || seen.orphanProcesses) {
    throw new AlreadyRunningError(`guest '${g.name}' is running; stop it before ${what}: a unified guest's own files change while it runs.`, { guest: g.name });
  }
}

function requireSameFileSystem(g: GuestConfig, u: UnifyPaths): void {
  if (statSync(g.vdir).dev !== statSync(u.pool).dev) {
    throw new VsError(`the root of guest '${g.name}' (${g.vdir}) is not on the file system of the unification pool ${u.pool} (${describeStorage(u.pool)}); move it there first.`, { guest: g.name, file: `${g.cfgDir}/vdir` });
  }
}

export interface HashifyResult extends BuildStats {
  storage: string;
  /** Where the exclude list came from (apps/vunify/exclude, .defaults', or the built-in one). */
  excludeSource: string;
  wasUnified: boolean;
}

/** `read` with the guest's merged tree mounted read-only at its view (the guest is stopped). */
function withView<T>(u: UnifyPaths, cur: Generation, read: () => T): T {
  mountView(u.view, { upper: cur.upper, meta: cur.meta, store: u.store, work: cur.work });
  try {
    return read();
  } finally {
    unmountView(u.view);
    resetWorkDir(cur.work);
  }
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
function newGeneration(u: UnifyPaths, source: string, exclude: ExcludeList, progress?: Progress, previous?: Generation): { gen: Generation; n: number; stats: BuildStats } {
  mkdirSync(u.guest, { recursive: true, mode: 0o700 });
  const n = Math.max(0, ...generationNumbers(u)) + 1;
  const gen = generation(u.guest, n);
  mkdirSync(gen.dir, { mode: 0o700 });
  try {
    const stats = buildMetadataTree(source, gen.meta, u.store, exclude, progress, previous && { upper: previous.upper, meta: previous.meta });
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
  await requireStopped(env, g, "hashify");
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
        built = withView(u, cur, () => newGeneration(u, u.view, g.unifyExclude, progress, cur));
      } else {
        built = newGeneration(u, g.vdir, g.unifyExclude, progress);
      }
    } catch (e) {
      removeStale(u);
      throw noSpace(e, u, `hashify of '${g.name}'`);
    }
    if (!cur) {
      // The plain tree goes aside in one rename, and the root directory is made again, empty,
      // as the guest's mount point. Until the switch below, the next command puts it back
      // (settleUnify); after it, the next command removes it.
      const st = lstatSync(g.vdir);
      renameSync(g.vdir, u.oldRoot);
      mkdirSync(g.vdir, { mode: st.mode & 0o7777 });
      chownSync(g.vdir, st.uid, st.gid);
      faultPoint("unify.after-move-aside");
    }
    switchGeneration(u, built.n);
    faultPoint("unify.after-switch");
    removeStale(u);
    return { ...built.stats, storage: describeStorage(u.pool), wasUnified: !!cur, excludeSource: g.unifyExclude.source };
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
  await requireStopped(env, g, "unify -R");
  const u = unifyPathsOf(env, g.name);
  const cur = settleUnify(env, g);
  if (!cur) throw new VsError(`guest '${g.name}' is not unified; nothing to undo.`, { guest: g.name });
  if (!isEmptyDir(g.vdir)) {
    throw new VsError(`the root directory ${g.vdir} of unified guest '${g.name}' holds files of its own (its files are in ${cur.dir}); move them away, then run 'unify -R' again.`, { guest: g.name, file: g.vdir });
  }
  try {
    withView(u, cur, () => runOk(["cp", "-a", "--reflink=auto", "--", `${u.view}/.`, u.plainCopy], {}, `copying the merged tree of '${g.name}'`));
    runOk(["sync", "-f", u.plainCopy], {}, `flushing ${u.plainCopy}`);
    faultPoint("unify.before-plain-rename", u.plainCopy);
    writeFileSync(u.plainCopyComplete, "");
  } catch (e) {
    removeTree(u.plainCopy);
    rmSync(u.plainCopyComplete, { force: true });
    throw noSpace(e, u, `unify -R of '${g.name}'`);
  }
  // The empty mount point is replaced by the complete copy in one rename (a missing one too).
  renameSync(u.plainCopy, g.vdir);
  faultPoint("unify.after-plain-rename");
  leaveUnified(u);
  removeStale(u);
}


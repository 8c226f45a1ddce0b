// `vserver NAME delete`: stop the guest, remove all that start made, then its root, cache, logs
// and config. `vdir` is a link an admin writes by hand, so before anything is touched the root it
// names is checked against pure/root-removal.ts's rule; the root is then opened once and removed
// through that descriptor, on its own mount only (drivers/tree-removal.ts). The journal keeps the
// guest's history; its own logs go with it, so a new guest of the same name starts with none.
// Its config is its directory and the legacy NAME.conf and NAME.sh, whichever it has.

import { closeSync, lstatSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { ForbiddenError, NotRunningError, UsageError, VsError } from "../errors";
import { readRunRecord } from "../drivers/run-state";
import { ownedByPackages } from "../drivers/package-owner";
import { openTree, removeContents, removeEmptyDir, type OpenedTree } from "../drivers/tree-removal";
import { forgetUnified, unifyPathsOf } from "./unify";
import { faultPoint } from "../drivers/fault";
import { ancestorsOf, SYSTEM_DIRS, whyNotRemovable } from "../pure/root-removal";
import type { Env } from "./env";
import { hasConfigDir, legacyFilesOf, listGuestNames, loadGuest } from "./guests";
import { vdirOf, type GuestConfig } from "../pure/config/guest-config";
import { readConfigTree } from "../drivers/config-store";
import { logFileOf } from "./guest-commands";
import { stopGuest } from "./stop";
import { forgetSubvolumeQgroup, haveBtrfsTools, isSubvolume, subvolumeId } from "../drivers/btrfs";
import { teardownGuest } from "./teardown";

export interface DeleteOptions {
  /** Called to confirm unless force; returns true to go on. */
  confirm?: () => Promise<boolean>;
  force: boolean;
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** The guest's root as a real path, or undefined when there is none to remove. */
function realRoot(g: GuestConfig): string | undefined {
  try {
    return realpathSync(g.vdir);
  } catch {
    return undefined;
  }
}

/** Refuse a root that is not the guest's alone; one sentence naming the vdir file. */
function checkRemovable(env: Env, g: GuestConfig, root: string): void {
  const p = env.paths;
  // Every other guest's root: its vdir entry alone (a whole config per guest made a delete among
  // 1000 guests cost 0.6 s); a guest with only a legacy NAME.conf is loaded whole.
  const others = listGuestNames(env).filter((n) => n !== g.name).map((n) => {
    let vdir = `${p.vdirBase}/${n}`;
    try {
      const cfgDir = `${p.confDir}/${n}`;
      vdir = hasConfigDir(env, n) ? vdirOf(readConfigTree(cfgDir, ["vdir"]), { cfgDir, vdirBase: p.vdirBase, name: n }) : loadGuest(env, n).vdir;
    } catch {}
    let r: string | undefined;
    try { r = realpathSync(vdir); } catch {}
    return { name: n, root: r, cfgDir: realOrSelf(`${p.confDir}/${n}`) };
  });
  const stateDirs = [
    { path: p.vdirBase, what: "the base directory of guest roots" },
    { path: p.confDir, what: "the config directory" },
    { path: p.runDir, what: "the run directory" },
    { path: p.cacheDir, what: "the cache directory" },
    { path: p.logDir, what: "the log directory" },
    { path: unifyPathsOf(env, g.name).pool, what: "the unification pool (every unified guest's files)" },
    ...(p.root !== "/" ? [{ path: p.root, what: "the state root" }] : []),
  ].map((s) => ({ ...s, path: realOrSelf(s.path) }));
  const pool = stateDirs.find((s) => s.what.startsWith("the unification pool"))!;
  if (root.startsWith(pool.path + "/")) {
    throw new ForbiddenError(`${g.cfgDir}/vdir: the guest root ${root} lies inside ${pool.what} (${pool.path}), so delete refuses to remove it; nothing was changed.`, { guest: g.name, file: `${g.cfgDir}/vdir` });
  }
  const owned = ownedByPackages([root, ...ancestorsOf(root)]);
  const why = whyNotRemovable(root, {
    ownCfgDir: realOrSelf(g.cfgDir),
    stateDirs,
    confDir: realOrSelf(p.confDir),
    otherGuests: others,
    isSystemDir: (d) => SYSTEM_DIRS.has(d) || owned.has(d),
  });
  if (why) {
    const file = `${g.cfgDir}/vdir`;
    throw new ForbiddenError(`${file}: the guest root ${root === g.vdir ? root : `${g.vdir} (${root})`} ${why}, so delete refuses to remove it; nothing was changed.`, { guest: g.name, file });
  }
}

/** Mount points strictly below `root` in the host's mount table (octal escapes undone). */
function mountsBelow(root: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter(Boolean)
    .map((l) => (l.split(" ")[4] ?? "").replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m.startsWith(root === "/" ? "/" : root + "/"));
}

export async function deleteGuest(env: Env, g: GuestConfig, o: DeleteOptions): Promise<boolean> {
  if (!o.force) {
    if (!o.confirm) throw new UsageError(`delete of '${g.name}' needs confirmation: run it on a terminal or give --force.`);
    if (!(await o.confirm())) return false;
  }
  const root = realRoot(g);
  let tree: OpenedTree | undefined;
  if (root !== undefined) {
    checkRemovable(env, g, root);
    // Opened before anything changes: the checks above hold for what this descriptor names,
    // whatever is renamed or relinked meanwhile.
    tree = openTree(root);
  }
  // A root that is a btrfs subvolume leaves its qgroup (its disk limit) to be removed after it.
  const subvolume = root !== undefined && isSubvolume(root) && haveBtrfsTools() ? subvolumeId(root) : undefined;
  try {
    faultPoint("delete.before-stop");
    try {
      await stopGuest(env, g);
    } catch (e) {
      if (!(e instanceof NotRunningError)) throw e;
    }
    await teardownGuest(env, g.name, readRunRecord(env.paths, g.name)?.context ?? g.context);
    faultPoint("delete.after-teardown");
    if (tree) {
      const mounts = mountsBelow(root!);
      if (mounts.length) {
        throw new ForbiddenError(`the root of guest '${g.name}' has ${mounts.join(", ")} mounted in it; unmount ${mounts.length > 1 ? "them" : "it"} and run delete again (the guest is stopped, nothing was removed).`, { guest: g.name, file: mounts[0] });
      }
      const t = tree;
      tree = undefined;
      const res = removeContents(t);
      faultPoint("delete.after-root-contents");
      const left = [...res.otherMounts.map((m) => `${m} (another mount)`), ...res.failed];
      if (left.length) {
        throw new VsError(`the root of guest '${g.name}' was not removed completely: ${left.slice(0, 3).join(", ")}${left.length > 3 ? ` and ${left.length - 3} more` : ""} remain; the config is kept.`, { guest: g.name, file: root });
      }
      const slash = root!.lastIndexOf("/");
      const parent = root!.slice(0, slash) || "/";
      // Remove the emptied directory by name only if that name still is the directory we emptied.
      const st = lstatSync(root!, { throwIfNoEntry: false });
      if (st?.isDirectory() && st.ino === t.ino && st.dev === t.dev) {
        const err = removeEmptyDir(parent, root!.slice(slash + 1));
        if (err !== 0) throw new VsError(`cannot remove the emptied root ${root} of guest '${g.name}' (errno ${err}); the config is kept.`, { guest: g.name, file: root });
        if (subvolume !== undefined) {
          // The root is gone: a qgroup left behind is worth a warning, not a half-deleted guest.
          try {
            forgetSubvolumeQgroup(parent, subvolume);
          } catch (e) {
            env.warn(`${(e as Error).message.replace(/\.$/, "")}; remove it with 'btrfs qgroup destroy 0/${subvolume} ${parent}'.`);
          }
        }
      }
    }
    // A unified guest's metadata tree and upper; its objects stay in the store until gc.
    forgetUnified(env, g.name);
    rmSync(`${env.paths.cacheDir}/${g.name}`, { recursive: true, force: true });
    for (const f of [logFileOf(env, g.name), `${logFileOf(env, g.name)}.1`, `${env.paths.logDir}/${g.name}.build.log`]) rmSync(f, { force: true });
    rmSync(g.cfgDir, { recursive: true, force: true });
    // The legacy NAME.sh and NAME.conf too (kept by convert): left behind, NAME.conf would be
    // the guest again. It goes last, since it is what makes a legacy guest exist.
    const legacy = legacyFilesOf(env, g.name);
    rmSync(legacy.script, { force: true });
    rmSync(legacy.conf, { force: true });
    return true;
  } finally {
    if (tree) closeSync(tree.fd);
  }
}

// The host-side mounts a guest in its own user namespace needs, made in the mount namespace the
// runtime runs in, in the guest's directory of the host's run state (outside every guest), from
// just before the runtime starts the guest until teardown:
//
//  - its root, idmapped: the guest's files keep their owners on disk and appear to the runtime
//    shifted into the guest's id range (src/native/idmap-mount.c says why the runtime cannot make
//    this mount itself);
//  - for a unified guest (docs/unification.md), its root is an overlay of its metadata tree, the
//    store and its upper directory instead; in a user namespace, its generation directory is
//    idmapped first and the overlay made from that (an overlay itself cannot be idmapped);
//  - for a guest in a network namespace of ours, a sysfs of that namespace. The namespace belongs
//    to the host's user namespace, so the kernel refuses the guest's runtime a sysfs of it, and
//    crun would bind the host's whole /sys instead (every host interface in view).
//
// The runtime opens these mount points from inside the guest's user namespace, as the guest's root
// id: the run directory and `.roots` let anyone through (x, never r), and each guest's directory
// in `.roots` is its own root id's alone (0700), so no other host user (nor another guest)
// reaches them.

import { chmodSync, chownSync, existsSync, mkdirSync, rmdirSync, statSync } from "node:fs";
import { ForbiddenError, ToolError } from "../errors";
import type { IdRange } from "../pure/id-range";
import type { Paths } from "../pure/paths";
import { rootOptions } from "../pure/unify/overlay-options";
import { builtFile } from "./built-files";
import { lastLine, run } from "./process";
import { inRuntimeNamespace, type Runtime } from "./runtime/oci-runtime";

export interface UsernsMountPaths {
  /** The guest's own directory in `.roots`. */
  dir: string;
  root: string;
  sysfs: string;
  /** A unified guest's generation directory, idmapped (its layers in a user namespace). */
  gen: string;
}

/** A unified guest's layers: its generation directory (meta, upper, work) and the store. */
export interface UnifiedLayers {
  gen: string;
  store: string;
}

/**
 * The on-disk owner of what the host's root itself writes through an idmapped generation: the
 * overlay's work directory is made with the mounter's ids, which a mapping of the guest's range
 * alone cannot store (EOVERFLOW, and the overlay falls back to read-only). The guest never sees it.
 */
const HOST_ROOT_ON_DISK = 4294967294;

export function usernsMountPaths(paths: Paths, name: string): UsernsMountPaths {
  const dir = `${paths.runDir}/.roots/${name}`;
  return { dir, root: `${dir}/root`, sysfs: `${dir}/sys`, gen: `${dir}/gen` };
}

/** Add search permission for all to `dir` and its parents up to (not including) `top`. */
function letThrough(dir: string, top: string): void {
  for (let d = dir; d.startsWith(top + "/") || (top === "/" && d !== "/"); d = d.slice(0, d.lastIndexOf("/")) || "/") {
    const mode = statSync(d).mode & 0o7777;
    if ((mode & 0o111) !== 0o111) chmodSync(d, mode | 0o111);
  }
}

/**
 * Above the state root nothing is ours to change, but a directory there that other users cannot
 * pass (a `mktemp -d` parent, 0700) keeps the guest's root id from its mounts: the runtime would
 * fail with a bare EACCES. Say which directory instead.
 */
function checkPassable(from: string, name: string): void {
  for (let d = from; d !== "/" && d !== ""; d = d.slice(0, d.lastIndexOf("/")) || "/") {
    const mode = statSync(d).mode & 0o7777;
    if ((mode & 0o001) === 0) {
      throw new ForbiddenError(`guest '${name}' runs in a user namespace, and its id cannot pass through '${d}' (mode ${mode.toString(8).padStart(4, "0")}) to reach its root below the state root: give that directory search permission for others (chmod o+x), or put the state root elsewhere.`);
    }
  }
}

function prepareGuestDir(paths: Paths, m: UsernsMountPaths, range: IdRange | undefined): void {
  const roots = m.dir.slice(0, m.dir.lastIndexOf("/"));
  // The host's own /run is left as it is; another state root is ours, itself included.
  const top = paths.root === "/" ? paths.runDir : paths.root;
  const above = top.slice(0, top.lastIndexOf("/")) || "/";
  if (range) checkPassable(above, m.dir.slice(m.dir.lastIndexOf("/") + 1));
  mkdirSync(roots, { recursive: true, mode: 0o711 });
  letThrough(roots, above);
  mkdirSync(m.dir, { recursive: true, mode: 0o700 });
  chownSync(m.dir, range?.base ?? 0, range?.base ?? 0);
  chmodSync(m.dir, 0o700);
}

function mountIn(rt: Runtime, target: string, argv: string[], what: string): void {
  if (!existsSync(target)) mkdirSync(target, { mode: 0o755 });
  const r = run(inRuntimeNamespace(rt, argv, true));
  if (r.code !== 0) throw new ToolError(`cannot ${what}: ${lastLine(r.stderr) || `exit status ${r.code}`}`);
}

/**
 * Make the guest's mounts; on failure, whatever was made is removed again. Without a range (a
 * privileged guest) only a unified root is made.
 */
export function mountForUserns(paths: Paths, rt: Runtime, m: UsernsMountPaths, o: { vdir: string; range?: IdRange; netnsPath?: string; unified?: UnifiedLayers }): void {
  const helper = builtFile("vserver-idmap");
  if (!helper && o.range) throw new ToolError("the idmap helper (dist/vserver-idmap) is missing; run 'make' in the vserver checkout.");
  try {
    prepareGuestDir(paths, m, o.range);
    if (o.unified) {
      let gen = o.unified.gen;
      if (o.range) {
        mountIn(rt, m.gen, [helper!, gen, m.gen, String(o.range.base), String(o.range.count), String(HOST_ROOT_ON_DISK)], `map the unified layers of the guest (${gen}) into its user namespace`);
        gen = m.gen;
      }
      const options = rootOptions({ meta: `${gen}/meta`, store: o.unified.store, upper: `${gen}/upper`, work: `${gen}/work` });
      mountIn(rt, m.root, ["mount", "-t", "overlay", "overlay", "-o", options, m.root], `mount the unified root of the guest from ${o.unified.gen} and ${o.unified.store}`);
    } else if (o.range) {
      mountIn(rt, m.root, [helper!, o.vdir, m.root, String(o.range.base), String(o.range.count)], `map the root of the guest (${o.vdir}) into its user namespace (security/privileged runs it without one)`);
    }
    if (o.netnsPath && o.range) {
      mountIn(rt, m.sysfs, ["nsenter", `--net=${o.netnsPath}`, "mount", "-t", "sysfs", "-o", "ro,nosuid,nodev,noexec", "sysfs", m.sysfs], "mount a sysfs of the guest's network namespace");
    }
  } catch (e) {
    unmountForUserns(rt, m);
    throw e;
  }
}

/**
 * Never a recursive removal: were a mount still there, that would delete the guest's files.
 * rmdir of a directory that is a mount point only in another namespace also detaches it there.
 */
export function unmountForUserns(rt: Runtime, m: UsernsMountPaths): void {
  if (!existsSync(m.dir)) return;
  // The overlay first: the idmapped generation below it stays busy while it is mounted.
  for (const d of [m.root, m.sysfs, m.gen]) {
    if (existsSync(d)) run(inRuntimeNamespace(rt, ["umount", "--lazy", d]));
  }
  for (const d of [m.root, m.sysfs, m.gen, m.dir]) {
    try {
      rmdirSync(d);
    } catch {}
  }
}

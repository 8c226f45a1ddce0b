// The idmapped mount through which a guest in its own user namespace sees its root: the guest's
// files keep their owners on disk, and appear to the runtime shifted into the guest's id range
// (src/native/idmap-mount.c says why the runtime cannot make this mount itself). It lives in the
// mount namespace the runtime runs in, at a mount point in the host's run state, outside every
// guest, from just before the runtime starts the guest until teardown.
//
// The runtime opens that mount point from inside the guest's user namespace, as the guest's root
// id: the run directory and `.roots` let anyone through (x, never r), and each guest's directory in
// `.roots` is its own root id's alone (0700), so no other host user (nor another guest) reaches
// the mount.

import { chmodSync, chownSync, existsSync, mkdirSync, rmdirSync, statSync } from "node:fs";
import { ToolError } from "../errors";
import type { IdRange } from "../pure/id-range";
import type { Paths } from "../pure/paths";
import { builtFile } from "./built-files";
import { lastLine, run } from "./process";
import { inRuntimeNamespace, type Runtime } from "./runtime/oci-runtime";

export function idmappedRootPath(paths: Paths, name: string): string {
  return `${paths.runDir}/.roots/${name}/root`;
}

/** Add search permission for all to `dir` and its parents up to (not including) `top`. */
function letThrough(dir: string, top: string): void {
  for (let d = dir; d.startsWith(top + "/") || (top === "/" && d !== "/"); d = d.slice(0, d.lastIndexOf("/")) || "/") {
    const mode = statSync(d).mode & 0o7777;
    if ((mode & 0o111) !== 0o111) chmodSync(d, mode | 0o111);
  }
}

export function mountIdmappedRoot(paths: Paths, rt: Runtime, vdir: string, target: string, range: IdRange): void {
  const helper = builtFile("vserver-idmap");
  if (!helper) throw new ToolError("the idmap helper (dist/vserver-idmap) is missing; run 'make' in the vserver checkout.");
  const guestDir = target.slice(0, target.lastIndexOf("/"));
  const roots = guestDir.slice(0, guestDir.lastIndexOf("/"));
  mkdirSync(roots, { recursive: true, mode: 0o711 });
  // The host's own /run is left as it is; another state root is ours, itself included.
  const top = paths.root === "/" ? paths.runDir : paths.root;
  letThrough(roots, top.slice(0, top.lastIndexOf("/")) || "/");
  mkdirSync(guestDir, { recursive: true, mode: 0o700 });
  chownSync(guestDir, range.base, range.base);
  chmodSync(guestDir, 0o700);
  if (!existsSync(target)) mkdirSync(target, { mode: 0o700 });
  const r = run(inRuntimeNamespace(rt, [helper, vdir, target, String(range.base), String(range.count)], true));
  if (r.code !== 0) {
    unmountIdmappedRoot(rt, target);
    throw new ToolError(`cannot map the root of the guest (${vdir}) into its user namespace: ${lastLine(r.stderr) || `exit status ${r.code}`}`);
  }
}

/**
 * Never a recursive removal: were the mount still there, that would delete the guest's files.
 * rmdir of a directory that is a mount point only in another namespace also detaches it there.
 */
export function unmountIdmappedRoot(rt: Runtime, target: string): void {
  const guestDir = target.slice(0, target.lastIndexOf("/"));
  if (!existsSync(guestDir)) return;
  if (existsSync(target)) run(inRuntimeNamespace(rt, ["umount", "--lazy", target]));
  for (const d of [target, guestDir]) {
    try {
      rmdirSync(d);
    } catch {}
  }
}

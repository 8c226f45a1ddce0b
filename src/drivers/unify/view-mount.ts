// A unified guest's merged tree, mounted read-only on the host for the host's own reading
// (re-hashify, `unify -R`), while the guest is stopped: the guest's own layers, its upper and work
// directories included (their index keeps hard links one file). The mount point is under the run
// state, outside every guest; a command killed while it is mounted leaves it for the next one to
// remove (unmountView).

import { existsSync, mkdirSync, readFileSync, rmdirSync } from "node:fs";
import { removeTree } from "./guest-layers";
import { ToolError } from "../../errors";
import { rootOptions, viewOptions, type OverlayLayers } from "../../pure/unify/overlay-options";
import { lastLine, run } from "../process";

function isMountPoint(dir: string): boolean {
  return readFileSync("/proc/self/mountinfo", "utf8").split("\n").some((l) => l.split(" ")[4] === dir);
}

export function mountView(dir: string, l: OverlayLayers): void {
  unmountView(dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const r = run(["mount", "-t", "overlay", "overlay", "-o", viewOptions(l), dir]);
  if (r.code !== 0) throw new ToolError(`cannot mount the merged tree of ${l.meta} read-only at ${dir}: ${lastLine(r.stderr) || `exit status ${r.code}`}`);
}

/** A new guest's root, writable, for the build to write its identity into (host side, briefly). */
export function mountWritable(dir: string, l: OverlayLayers): void {
  const r = run(["mount", "-t", "overlay", "overlay", "-o", rootOptions(l), dir]);
  if (r.code !== 0) throw new ToolError(`cannot mount the new root ${dir} from ${l.meta}: ${lastLine(r.stderr) || `exit status ${r.code}`}`);
}

/** Unmount whatever is at `dir`, and remove the directory unless `keep`. */
export function unmountView(dir: string, keep = false): void {
  if (!existsSync(dir)) return;
  while (isMountPoint(dir)) {
    if (run(["umount", dir]).code !== 0) run(["umount", "--lazy", dir]);
  }
  if (keep) return;
  try {
    rmdirSync(dir);
  } catch {}
}

/**
 * Even read-only, an overlay remakes its work directory's `work` (and makes an empty `index`)
 * with the mounter's ids: ours, the host's root, which the guest's own idmapped mount cannot
 * remove or write in. Both are made again by the next mount, so they go after a view (and after
 * a command killed with one mounted); an index with entries is the guest's and stays.
 */
export function resetWorkDir(work: string): void {
  removeTree(`${work}/work`);
  try {
    rmdirSync(`${work}/index`);
  } catch {}
}

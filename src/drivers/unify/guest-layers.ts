// A guest's unification state on disk (pure/unify/layout.ts): which generation is in force, and
// removing what a killed command left beside it.

import { existsSync, lstatSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import { generation, generationNumber, type Generation, type UnifyPaths } from "../../pure/unify/layout";
import { openTree, removeContents, removeEmptyDir } from "../tree-removal";

/** The generation in force, or undefined for a guest that is not unified. */
export function currentGeneration(u: UnifyPaths): Generation | undefined {
  let target: string;
  try {
    target = readlinkSync(u.current);
  } catch {
    return undefined;
  }
  const n = generationNumber(target);
  return n === undefined ? undefined : generation(u.guest, n);
}

export function generationNumbers(u: UnifyPaths): number[] {
  try {
    return readdirSync(u.guest).map(generationNumber).filter((n): n is number => n !== undefined);
  } catch {
    return [];
  }
}

/** Put generation `n` in force in one step (a new link renamed over the old one). */
export function switchGeneration(u: UnifyPaths, n: number): void {
  const tmp = `${u.current}.new`;
  rmSync(tmp, { force: true });
  symlinkSync(`gen-${n}`, tmp);
  renameSync(tmp, u.current);
}

export function leaveUnified(u: UnifyPaths): void {
  try {
    unlinkSync(u.current);
  } catch {}
}

/**
 * Remove a tree we made (a generation, a former root) without following anything in it, and
 * without crossing into a mount: a guest's files are hostile even when the guest is stopped.
 */
export function removeTree(path: string): void {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return;
  if (!st.isDirectory()) {
    rmSync(path, { force: true });
    return;
  }
  const res = removeContents(openTree(path));
  const left = [...res.otherMounts, ...res.failed];
  if (left.length) throw new Error(`cannot remove ${path} completely: ${left.slice(0, 3).join(", ")} remain`);
  const slash = path.lastIndexOf("/");
  removeEmptyDir(path.slice(0, slash) || "/", path.slice(slash + 1));
}

/**
 * Every generation but the one in force, the copies of killed commands, and the former plain
 * root once the guest is unified (before, it is the guest's only tree: settleUnify restores it).
 */
export function removeStale(u: UnifyPaths): void {
  const cur = currentGeneration(u);
  for (const n of generationNumbers(u)) {
    const g = generation(u.guest, n);
    if (!cur || g.dir !== cur.dir) removeTree(g.dir);
  }
  if (cur) removeTree(u.oldRoot);
  removeTree(u.plainCopy);
  rmSync(u.plainCopyComplete, { force: true });
  rmSync(`${u.current}.new`, { force: true });
  if (!cur && existsSync(u.guest) && !readdirSync(u.guest).length) removeEmptyDir(u.guests, u.guest.slice(u.guests.length + 1));
}

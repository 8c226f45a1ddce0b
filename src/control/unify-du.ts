// `vdu`: a guest's own disk use (what it wrote itself) against what it shares through the store.

import { lstatSync, readdirSync } from "node:fs";
import type { GuestConfig } from "../pure/config/guest-config";
import { objectRelPath } from "../pure/unify/objects";
import { currentGeneration } from "../drivers/unify/guest-layers";
import { objectsOf, walkTree } from "../drivers/unify/meta-walk";
import type { Env } from "./env";
import type { DiskUseView } from "../pure/format/unify";
import { unifyPathsOf } from "./unify";

/** What vdu shows: defined with its format (pure/format/unify.ts), so the two cannot drift. */
export type DiskUse = DiskUseView;

/** Blocks and inodes of a tree, each inode once. */
function walkUsage(top: string): { bytes: number; inodes: number } {
  const seen = new Set<number>();
  let bytes = 0;
  walkTree(top, (_, st) => {
    if (seen.has(st.ino)) return;
    seen.add(st.ino);
    bytes += st.blocks * 512;
  });
  return { bytes, inodes: seen.size };
}

/** `vdu NAME`: the guest's own bytes and inodes against what it shares through the store. */
export function diskUse(env: Env, g: GuestConfig): DiskUse {
  const u = unifyPathsOf(env, g.name);
  const cur = currentGeneration(u);
  if (!cur) {
    const own = walkUsage(g.vdir);
    return { unified: false, ownBytes: own.bytes, ownInodes: own.inodes, metaInodes: 0, metaBytes: 0, sharedObjects: 0, sharedBytes: 0, alsoUsedByOthers: 0 };
  }
  const own = walkUsage(cur.upper);
  const meta = walkUsage(cur.meta);
  const mine = objectsOf(cur.meta);
  const others = new Set<string>();
  for (const other of readdirSync(u.guests)) {
    if (other === g.name) continue;
    const oc = currentGeneration(unifyPathsOf(env, other));
    if (oc) for (const d of objectsOf(oc.meta)) if (mine.has(d)) others.add(d);
  }
  let sharedBytes = 0;
  for (const d of mine) {
    try {
      sharedBytes += lstatSync(`${u.store}/${objectRelPath(d)}`).blocks * 512;
    } catch {}
  }
  return { unified: true, ownBytes: own.bytes, ownInodes: own.inodes, metaInodes: meta.inodes, metaBytes: meta.bytes, sharedObjects: mine.size, sharedBytes, alsoUsedByOthers: others.size };
}

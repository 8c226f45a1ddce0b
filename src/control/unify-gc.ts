// `vhashify --gc`: the objects of the store that no guest's metadata tree points at are removed.
// It holds the store's lock, as hashify does, and counts every generation of every guest (a stale
// one, a build's) as using its objects: it never removes one that something may still need.

import { lstatSync, readdirSync, unlinkSync } from "node:fs";
import { digestOfStoreEntry } from "../pure/unify/objects";
import { objectsOf } from "../drivers/unify/meta-walk";
import { faultPoint } from "../drivers/fault";
import type { Env } from "./env";
import { lockStore, unifyPathsOf } from "./unify";

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
    let entries: string[] = [];
    try {
      entries = readdirSync(`${guests}/${name}`);
    } catch {}
    for (const e of entries) if (e.startsWith("gen-")) objectsOf(`${guests}/${name}/${e}/meta`, out);
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


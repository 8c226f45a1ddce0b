// `build -m clone` of a unified guest: the clone's layers are copies of the source's metadata tree
// and upper (drivers/unify/clone-layers.ts), sharing every object, made under a build name and
// renamed into place with the rest of the build.

import { existsSync, mkdirSync, renameSync, symlinkSync } from "node:fs";
import { generation, type Generation } from "../pure/unify/layout";
import { copyGeneration } from "../drivers/unify/clone-layers";
import { removeTree } from "../drivers/unify/guest-layers";
import { mountWritable, unmountView } from "../drivers/unify/view-mount";
import type { Env } from "./env";
import { forgetUnified, unifyPathsOf } from "./unify";

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


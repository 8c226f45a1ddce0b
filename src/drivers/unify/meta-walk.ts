// Walking the trees of unification (metadata trees, uppers, plain roots) on the host, and what is
// read from them: which objects of the store a metadata tree points at.

import { lstatSync, readdirSync, type Stats } from "node:fs";
import { REDIRECT_XATTR, digestOfRedirect } from "../../pure/unify/objects";
import { getXattr } from "./xattrs";

/**
 * Every entry below `top` (not `top` itself), parents before children, each with its own lstat:
 * links are never followed. A directory that cannot be listed (a missing tree, one removed
 * meanwhile) has nothing below it.
 */
export function walkTree(top: string, visit: (path: string, st: Stats) => void): void {
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
      visit(p, st);
      if (st.isDirectory()) todo.push(p);
    }
  }
}

/** The digests of the objects the stubs of `meta` redirect to; none for a missing tree. */
export function objectsOf(meta: string, into = new Set<string>()): Set<string> {
  walkTree(meta, (p, st) => {
    if (!st.isFile() || st.size === 0) return;
    const r = getXattr(p, REDIRECT_XATTR);
    const digest = r && digestOfRedirect(r.toString());
    if (digest) into.add(digest);
  });
  return into;
}

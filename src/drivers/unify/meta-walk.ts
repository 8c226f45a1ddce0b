// Reading metadata trees: which objects of the store a tree points at.

import { lstatSync, readdirSync } from "node:fs";
import { REDIRECT_XATTR, digestOfRedirect } from "../../pure/unify/objects";
import { getXattr } from "./xattrs";

/** The digests of the objects the stubs of `meta` redirect to; none for a missing tree. */
export function objectsOf(meta: string, into = new Set<string>()): Set<string> {
  const todo = [meta];
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
      if (st.isDirectory()) todo.push(p);
      else if (st.isFile() && st.size > 0) {
        const r = getXattr(p, REDIRECT_XATTR);
        const digest = r && digestOfRedirect(r.toString());
        if (digest) into.add(digest);
      }
    }
  }
  return into;
}

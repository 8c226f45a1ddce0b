// A clone of a unified guest: its metadata tree and upper copied (stubs and small files; the
// objects are shared, not copied), so a clone costs inodes, not data.
//
// overlayfs marks each file it copied up with `trusted.overlay.origin`, a handle of the lower
// file it came from. Those name the source's metadata files, which the clone's overlay would
// refuse (its upper root would not match its lower root) or misread, so the copies lose them: the
// clone's upper is then like one composed offline, which overlayfs looks up by path.

import { mkdirSync } from "node:fs";
import type { Generation } from "../../pure/unify/layout";
import { runOk } from "../process";
import { removeXattr } from "./xattrs";
import { walkTree } from "./meta-walk";

const ORIGIN_XATTR = "trusted.overlay.origin";

function dropOrigins(top: string): void {
  removeXattr(top, ORIGIN_XATTR);
  walkTree(top, (p) => removeXattr(p, ORIGIN_XATTR));
}

export function copyGeneration(from: Generation, to: Generation): void {
  mkdirSync(to.dir, { mode: 0o700 });
  runOk(["cp", "-a", "--reflink=auto", "--", from.meta, to.meta], {}, `copying the metadata tree ${from.meta}`);
  runOk(["cp", "-a", "--reflink=auto", "--", from.upper, to.upper], {}, `copying the upper directory ${from.upper}`);
  dropOrigins(to.upper);
  mkdirSync(to.work, { mode: 0o700 });
}

// What a re-hashify already knows from the generation it replaces: a file the guest has not
// touched since is the same file in that generation's metadata tree, so its digest is its stub's
// redirect (no need to read it through the view again: its object's pages are rarely cached), and
// a kept file's data can be reflinked from there (the view, an overlay, cannot be reflinked).
//
// overlayfs shows a lower file at a path when the upper has no entry there (no copy-up, no
// whiteout) and no directory above it in the upper was renamed (a redirect) or made opaque; then
// it is the metadata tree's file at the same path. A file with several names is left out: the
// overlay's index may show another name's copy-up in its place. Anything unsure is read as before.

import { lstatSync, type BigIntStats } from "node:fs";
import { METACOPY_XATTR, REDIRECT_XATTR, digestOfRedirect } from "../../pure/unify/objects";
import { getXattr } from "./xattrs";

const OPAQUE_XATTR = "trusted.overlay.opaque";

/** A directory of the view: its upper directory (when the upper has one) and its metadata tree directory. */
export interface PreviousLayers {
  upper?: string;
  meta: string;
}

/** The layers of the view's subdirectory `name`, or undefined when the overlay may take it from elsewhere. */
export function childLayers(parent: PreviousLayers | undefined, name: string): PreviousLayers | undefined {
  if (!parent) return undefined;
  const meta = `${parent.meta}/${name}`;
  // Its paths are followed below: a link there (the guest's own) ends what is known.
  if (!lstatSync(meta, { throwIfNoEntry: false })?.isDirectory()) return undefined;
  if (!parent.upper) return { meta };
  const upper = `${parent.upper}/${name}`;
  const st = lstatSync(upper, { throwIfNoEntry: false });
  if (!st) return { meta };
  if (!st.isDirectory() || getXattr(upper, REDIRECT_XATTR) !== undefined || getXattr(upper, OPAQUE_XATTR) !== undefined) return undefined;
  return { upper, meta };
}

/**
 * The previous generation's file behind the view's file `name` (stat `seen`), when the guest has
 * not touched it: its digest (a stub), or its path (a file kept whole).
 */
export function untouched(l: PreviousLayers | undefined, name: string, seen: BigIntStats): { digest: string } | { keptFile: string } | undefined {
  if (!l) return undefined;
  if (l.upper && lstatSync(`${l.upper}/${name}`, { throwIfNoEntry: false })) return undefined;
  const file = `${l.meta}/${name}`;
  const st = lstatSync(file, { bigint: true, throwIfNoEntry: false });
  if (!st?.isFile() || st.nlink !== 1n || st.size !== seen.size || st.mtimeNs !== seen.mtimeNs) return undefined;
  const redirect = getXattr(file, REDIRECT_XATTR);
  if (redirect !== undefined) {
    const digest = digestOfRedirect(redirect.toString());
    return digest && getXattr(file, METACOPY_XATTR) !== undefined ? { digest } : undefined;
  }
  return getXattr(file, METACOPY_XATTR) === undefined ? { keptFile: file } : undefined;
}

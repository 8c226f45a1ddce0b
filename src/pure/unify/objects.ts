// Objects of the store are named by the SHA-256 of their content, as 64 hex digits split after
// the first two (256 directories keep each one small). Each file of a guest's metadata tree
// points at its object with overlayfs's `trusted.overlay.redirect`, an absolute path inside the
// store, which is the overlay's data-only lower layer.

export const METACOPY_XATTR = "trusted.overlay.metacopy";
export const REDIRECT_XATTR = "trusted.overlay.redirect";
/** overlayfs's own attributes: never copied from a guest's tree into its metadata tree. */
export const OVERLAY_XATTR_PREFIX = "trusted.overlay.";

const DIGEST_RE = /^[0-9a-f]{64}$/;

export function objectRelPath(digest: string): string {
  if (!DIGEST_RE.test(digest)) throw new Error(`not a SHA-256 digest: ${digest}`);
  return `${digest.slice(0, 2)}/${digest.slice(2)}`;
}

export function redirectOf(digest: string): string {
  return `/${objectRelPath(digest)}`;
}

/** The digest a redirect names, or undefined when it does not name an object of the store. */
export function digestOfRedirect(redirect: string): string | undefined {
  const m = /^\/([0-9a-f]{2})\/([0-9a-f]{62})$/.exec(redirect);
  return m ? m[1]! + m[2]! : undefined;
}

/** The digest of a store entry `ab/cdef…`, or undefined for a temporary or foreign file. */
export function digestOfStoreEntry(dir: string, file: string): string | undefined {
  const d = dir + file;
  return /^[0-9a-f]{2}$/.test(dir) && DIGEST_RE.test(d) ? d : undefined;
}

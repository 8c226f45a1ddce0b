// The overlayfs mount options of a unified guest's root. Paths go into a comma-separated option
// string where ',' ':' and '\' have meanings; ours never hold them, and one that does is refused
// rather than escaped.

export interface OverlayLayers {
  meta: string;
  store: string;
  upper: string;
  work: string;
}

function plain(path: string): string {
  if (/[,:\\\s]/.test(path)) throw new Error(`the path ${path} holds a character overlayfs options cannot carry (',', ':', '\\' or a space)`);
  return path;
}

/**
 * The guest's writable root. `lowerdir=META::STORE` makes the store a data-only layer: reachable
 * only through the metadata files' redirects, never listed. metacopy lets chmod and chown copy up
 * metadata alone; index keeps a guest's hard links one file across copy-up.
 */
export function rootOptions(l: OverlayLayers): string {
  return `lowerdir=${plain(l.meta)}::${plain(l.store)},upperdir=${plain(l.upper)},workdir=${plain(l.work)},metacopy=on,redirect_dir=on,index=on`;
}

/**
 * The guest's merged tree, read-only, for the host's own reading (re-hashify, de-unify): the
 * guest's own mount, read-only. The upper and work directories are the guest's, for their index:
 * a hard link a copy-up broke in the upper (one name copied up, the others still in the metadata
 * tree) is one file only through it, as the guest sees it.
 */
export function viewOptions(l: OverlayLayers): string {
  return `ro,${rootOptions(l)}`;
}

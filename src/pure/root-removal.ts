// Which directories `vserver NAME delete` may remove as the guest's root. `vdir` is a link an admin
// writes by hand, so it can name anything; a recursive delete of the wrong directory loses data
// that is not the guest's. The rule (docs/security.md), on the root's real path (links and `.`
// resolved):
//   - never `/`, the state root, or any directory that is, or holds, a directory of this
//     installation (guest roots' base, config, run, cache and log directories);
//   - never a directory that is, holds, or lies inside another guest's root, or that is or holds
//     another guest's config directory; nothing inside the config base except this guest's own;
//   - never a system directory (a fixed list of the FHS top-level directories, or one that the
//     host's package manager owns), and only a directory strictly below some directory that is
//     not a system directory: `/srv/x` and `/var/lib/x` are refused, `/srv/vs/x` is not.

export interface RemovalFacts {
  /** The guest's config directory (it is removed too, so a root inside it is fine). */
  ownCfgDir: string;
  /** The installation's own directories, real paths. */
  stateDirs: Array<{ path: string; what: string }>;
  /** The config base (/etc/vservers), real path. */
  confDir: string;
  /** Other guests' roots and config directories, real paths. */
  otherGuests: Array<{ name: string; root?: string; cfgDir: string }>;
  /** A directory the host treats as its own (FHS list or package manager). */
  isSystemDir(path: string): boolean;
}

/** Top-level directories of the file system hierarchy: never a guest's root, nor its parent alone. */
export const SYSTEM_DIRS = new Set([
  "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt",
  "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/var/lib", "/var/tmp",
  "/var/cache", "/var/log", "/usr/local", "/usr/lib", "/usr/share",
]);

/** `a` is `b` or lies below it. */
export function isWithin(a: string, b: string): boolean {
  return a === b || b === "/" || a.startsWith(b + "/");
}

/** The proper ancestors of an absolute path, nearest first ("/" last). */
export function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  let p = path;
  while (p !== "/") {
    p = p.slice(0, p.lastIndexOf("/")) || "/";
    out.push(p);
  }
  return out;
}

/** Why `root` (a real path) must not be removed as the guest's root; undefined when it may be. */
export function whyNotRemovable(root: string, f: RemovalFacts): string | undefined {
  if (root === "/") return "is the host's root directory";
  const same = f.stateDirs.find((s) => s.path === root);
  if (same) return `is ${same.what}`;
  const held = f.stateDirs.find((s) => isWithin(s.path, root));
  if (held) return `holds ${held.what} (${held.path})`;
  for (const o of f.otherGuests) {
    if (o.root && isWithin(o.root, root)) return `holds the root of guest '${o.name}' (${o.root})`;
    if (o.root && isWithin(root, o.root)) return `lies inside the root of guest '${o.name}' (${o.root})`;
    if (isWithin(o.cfgDir, root)) return `holds the config of guest '${o.name}' (${o.cfgDir})`;
  }
  if (isWithin(root, f.confDir) && !isWithin(root, f.ownCfgDir)) return `lies inside the config directory ${f.confDir}`;
  if (f.isSystemDir(root)) return "is a system directory";
  if (ancestorsOf(root).every((a) => f.isSystemDir(a))) return "is not below a directory of its own (every directory above it is a system directory)";
  return undefined;
}

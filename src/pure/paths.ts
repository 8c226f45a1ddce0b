// Where state lives. Everything hangs off one root so that tests and several installations never
// touch each other or the host's real state: VSERVER_ROOT=/some/dir moves all of it.

import { SOCKET_REL } from "./service-protocol";

export interface Paths {
  /** The root every other path is under; "/" for a normal installation. */
  root: string;
  /** /etc/vservers: one directory per guest, plus .defaults and .distributions. */
  confDir: string;
  defaultsDir: string;
  /** Default base of guest roots (util-vserver's .defaults/vdirbase). */
  vdirBase: string;
  /** Runtime state: run files, bundles, locks, the runtime's own state. */
  runDir: string;
  lockDir: string;
  /** The host service's socket (pure/service-protocol.ts SOCKET_REL) and its own state. */
  serviceDir: string;
  serviceSocket: string;
  /** The OCI runtime's --root: its container state, kept apart from the host's /run/crun. */
  runtimeStateDir: string;
  cacheDir: string;
  logDir: string;
  /** Name of our cgroup parent directory in every hierarchy. */
  cgroupParent: string;
}

function join(root: string, rel: string): string {
  return root === "/" ? "/" + rel : `${root.replace(/\/+$/, "")}/${rel}`;
}

/**
 * The cgroup parent of an installation. The host's own installation uses "vservers"; any other
 * root gets a name derived from it, so two test runs never share (or remove) each other's parent.
 */
export function cgroupParentFor(root: string): string {
  if (root === "/") return "vservers";
  return `vservers-${fnv1a32(root)}`;
}

/**
 * FNV-1a, 32 bits, as 8 hex digits: enough to keep state roots apart, and free, where loading
 * node:crypto for a hash costs ~18 ms of every command's start-up (docs/runtime.md).
 */
export function fnv1a32(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

export function pathsFor(env: Record<string, string | undefined>): Paths {
  const raw = env.VSERVER_ROOT?.trim();
  const root = raw ? raw.replace(/\/+$/, "") || "/" : "/";
  const confDir = join(root, "etc/vservers");
  const runDir = join(root, "run/vservers");
  return {
    root,
    confDir,
    defaultsDir: `${confDir}/.defaults`,
    vdirBase: join(root, "vservers"),
    runDir,
    lockDir: `${runDir}/.locks`,
    serviceDir: join(root, SOCKET_REL.slice(0, SOCKET_REL.lastIndexOf("/"))),
    serviceSocket: join(root, SOCKET_REL),
    runtimeStateDir: `${runDir}/.runtime`,
    cacheDir: join(root, "var/cache/vservers"),
    logDir: join(root, "var/log/vservers"),
    cgroupParent: env.VSERVER_CGROUP_PARENT?.trim() || cgroupParentFor(root),
  };
}

/** Guest names become directory names, container ids and cgroup-free labels: keep them plain. */
export const GUEST_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function isValidGuestName(name: string): boolean {
  return GUEST_NAME_RE.test(name) && name !== "." && name !== "..";
}

/** Every path that belongs to one guest, in one place. */
export interface GuestPaths {
  /** /etc/vservers/NAME: its config directory. */
  cfgDir: string;
  /** /etc/vservers/NAME.conf: a legacy config, read as data. */
  legacyConf: string;
  /** Where `build` puts its root unless told otherwise (the `vdir` link says where it is). */
  defaultVdir: string;
  /** /run/vservers/NAME: the run record while it runs. */
  runRecord: string;
  /** The OCI bundle (config.json, PID file, the runtime's log). */
  bundle: string;
  /** The guest init's exec socket (pure/guest-exec-protocol.ts), in the bundle: the host's alone. */
  execSocket: string;
  /** Its own output and its hooks' (the journal is shared: logDir/events.log). */
  log: string;
  /** Its build cache. */
  cache: string;
}

export function guestPaths(p: Paths, name: string): GuestPaths {
  return {
    cfgDir: `${p.confDir}/${name}`,
    legacyConf: `${p.confDir}/${name}.conf`,
    defaultVdir: `${p.vdirBase}/${name}`,
    runRecord: `${p.runDir}/${name}`,
    bundle: `${p.runDir}/.bundles/${name}`,
    execSocket: `${p.runDir}/.bundles/${name}/exec.sock`,
    log: `${p.logDir}/${name}.log`,
    cache: `${p.cacheDir}/${name}`,
  };
}

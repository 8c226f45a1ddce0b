// A running context that vuname, vlimit and vattribute act on, named by guest or number, and
// what the three share: the config file a --save writes, and their journal line. The guest is
// reached only through the kernel's handles on it (its namespaces, its cgroup files, prlimit on
// its processes); no path inside the guest's root is ever opened.

import { NotFoundError, UsageError } from "../errors";
import { cgroupPids } from "../drivers/cgroup/guest-cgroups";
import { writeConfigEntries } from "../drivers/config-store";
import { record } from "../drivers/journal";
import { resolveContext } from "./context-tools";
import type { Env } from "./env";
import { cfgDirOf, requireConfigDir } from "./guests";

export interface LiveTarget {
  context: number;
  /** Guest name; undefined for a chcontext context. */
  name?: string;
  /** A process of the context: the guest's PID 1, else the first in its cgroup. */
  pid: number;
  cgroupPath: string;
  label: string;
}

/** A running context named by guest name or number (never the host). */
export function liveTarget(env: Env, spec: string): LiveTarget {
  const ref = resolveContext(env, spec);
  if (ref.context === 0) throw new UsageError("context 0 is the host; use hostname, ulimit or prlimit on the host itself.");
  const pid = ref.rec?.pid ?? cgroupPids(ref.cgroupPath)[0];
  if (pid === undefined) throw new NotFoundError(`context ${ref.context} has no processes.`);
  const label = ref.name ? `guest '${ref.name}'` : `context ${ref.context}`;
  return { context: ref.context, name: ref.name, pid, cgroupPath: ref.cgroupPath, label };
}

/** The guest whose config a --save or --set writes: a guest with a config directory (control/guests.ts). */
export function requireGuest(env: Env, t: LiveTarget, what: string): string {
  if (!t.name) throw new UsageError(`${what}: context ${t.context} is not a guest (it was made by chcontext), so it has no config to write.`);
  requireConfigDir(env, t.name, what);
  return t.name;
}

export function writeConfigFile(env: Env, name: string, rel: string, content: string): string {
  const dir = cfgDirOf(env, name);
  writeConfigEntries(dir, [[rel, { kind: "file", content, executable: false }]]);
  return `${dir}/${rel}`;
}

export function journal(env: Env, t: LiveTarget, op: string, ok: boolean, extra: Record<string, unknown>): void {
  record(env.paths.logDir, { op, guest: t.name, context: t.context, ok, ...extra });
}

// The environment every operation runs in: where state lives, and (lazily) which OCI runtime.

import { readFileSync, readlinkSync } from "node:fs";
import { pathsFor, type Paths } from "../pure/paths";
import { chooseRuntime, type Runtime } from "../drivers/runtime/oci-runtime";
import { readRunRecord } from "../drivers/run-state";
import { writeErr } from "../drivers/output";
import { existingSocketCgroup } from "../drivers/net/socket-cgroup";

export interface Env {
  paths: Paths;
  /** The runtime that new guests start with. */
  runtime(): Runtime;
  /** The runtime a guest was started with (from its run record), else the default one. */
  runtimeOf(name: string): Runtime;
  /** Warnings for the user (config files we do not support, ...). */
  warn(message: string): void;
  quiet: boolean;
}

/**
 * util-vserver's `.defaults/vdirbase` and `.defaults/cachebase` links move the default guest roots
 * and caches; an installation that has them keeps its layout.
 */
function withDefaultsLinks(paths: Paths): Paths {
  const link = (name: string) => {
    try {
      const t = readlinkSync(`${paths.defaultsDir}/${name}`);
      return t.startsWith("/") ? t.replace(/\/+$/, "") : undefined;
    } catch {
      return undefined;
    }
  };
  return { ...paths, vdirBase: link("vdirbase") ?? paths.vdirBase, cacheDir: link("cachebase") ?? paths.cacheDir };
}

export function makeEnv(opts: { quiet?: boolean; warn?: (m: string) => void } = {}): Env {
  const paths = withDefaultsLinks(pathsFor(process.env));
  let rt: Runtime | undefined;
  const byName: Record<string, Runtime> = {};
  return {
    paths,
    runtime() {
      if (!rt) {
        let configured: string | undefined;
        try {
          configured = readFileSync(`${paths.defaultsDir}/runtime`, "utf8").split("\n")[0]?.trim() || undefined;
        } catch {}
        rt = chooseRuntime(paths.runtimeStateDir, configured);
      }
      return rt;
    },
    runtimeOf(name: string) {
      const rec = readRunRecord(paths, name);
      const def = this.runtime();
      const rt = !rec || rec.runtime === def.name ? def : (byName[rec.runtime] ??= chooseRuntime(paths.runtimeStateDir, rec.runtime));
      // A guest with socket programs: everything the runtime starts in it must be born under them.
      const join = rec && existingSocketCgroup(rec.cgroupPath);
      return join ? { ...rt, joinCgroup2: join } : rt;
    },
    warn: opts.warn ?? ((m) => writeErr(`vserver: warning: ${m}\n`)),
    quiet: opts.quiet ?? false,
  };
}

// The environment every operation runs in: where state lives, and (lazily) which OCI runtime.

import { readFileSync } from "node:fs";
import { pathsFor, type Paths } from "../pure/paths";
import { chooseRuntime, type Runtime } from "../drivers/runtime/oci-runtime";

export interface Env {
  paths: Paths;
  runtime(): Runtime;
  /** Warnings for the user (config files we do not support, ...). */
  warn(message: string): void;
  quiet: boolean;
}

export function makeEnv(opts: { quiet?: boolean; warn?: (m: string) => void } = {}): Env {
  const paths = pathsFor(process.env);
  let rt: Runtime | undefined;
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
    warn: opts.warn ?? ((m) => process.stderr.write(`vserver: warning: ${m}\n`)),
    quiet: opts.quiet ?? false,
  };
}

// Files `make` builds beside the bundled commands: dist/ (the bundles, the guest init) and bin/
// (the commands). Found relative to the running bundle in dist/, or to src/ when run unbundled.

import { existsSync } from "node:fs";

/** `rel` is relative to dist/ ("vserver-init", "../bin/vserver"); undefined when not built. */
export function builtFile(rel: string): string | undefined {
  for (const p of [`${import.meta.dir}/${rel}`, `${import.meta.dir}/../../dist/${rel}`]) {
    if (existsSync(p)) return p;
  }
  return undefined;
}

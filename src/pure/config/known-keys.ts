// The warnings for files of a guest's config directory that are not applied: one per file that
// util-vserver knows but this version does not apply (with the reason), or that nobody knows.
// Which is which comes from the one table of settings (settings.ts).

import { settingFor } from "./settings";
import type { ConfigTree } from "./tree";

export interface ConfigWarning {
  file: string;
  message: string;
}

/** fileOf: the file a setting of the tree is read from (the directory's, or a legacy NAME.conf's line). */
export function unsupportedWarnings(tree: ConfigTree, fileOf: (rel: string) => string): ConfigWarning[] {
  const out: ConfigWarning[] = [];
  const reported = new Set<string>();
  for (const [rel, entry] of tree) {
    if (entry.kind === "dir") continue;
    const s = settingFor(rel);
    if (s?.status === "read") continue;
    // A directory of unsupported files is reported once, under its own name.
    const key = s?.key ?? rel;
    if (reported.has(key)) continue;
    reported.add(key);
    out.push({
      file: fileOf(rel),
      message: s ? `not supported: ${s.reason}` : "not a setting this version knows; it is ignored",
    });
  }
  return out;
}

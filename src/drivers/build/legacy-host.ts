// `build -m legacy`: a guest that is a copy of the host's own system, as the original
// `vserver NAME build` made one, with the host's secrets, mounts and state left out
// (pure/legacy-host.ts has the lists). What is left of the host's identity is overwritten here.

import { chmodSync, existsSync, readFileSync } from "node:fs";
import { GuestRoot } from "../safe-fs";
import { rsyncTree } from "./rsync-tree";
import { LEGACY_EMPTY_DIRS, legacyRules, lockPasswords } from "../../pure/legacy-host";
import type { CopyRule } from "../../pure/build-method-args";

const FSTAB = "# The guest's file systems are mounted by the host, from its config's fstab\n# (/etc/vservers/NAME/fstab); this copy of the host's system mounts nothing itself.\n";

export async function copyHostSystem(dest: string, opts: { stateDirs: string[]; adminRules: CopyRule[]; log: string; quiet: boolean }): Promise<void> {
  const filter = legacyRules({ stateDirs: opts.stateDirs, adminRules: opts.adminRules });
  await rsyncTree({ what: "the host's system", src: "/", dest, filter, log: opts.log, quiet: opts.quiet });
  const g = new GuestRoot(dest);
  try {
    for (const d of LEGACY_EMPTY_DIRS) g.mkdirs(d);
    // mkdirs refused anything but a directory at these paths, so chmod follows no link.
    chmodSync(`${dest}/tmp`, 0o1777);
    chmodSync(`${dest}/root`, 0o700);
    // Rewritten in place (O_TRUNC): the files keep the owner, group and mode the copy gave them.
    if (g.exists("etc/shadow") && existsSync("/etc/shadow")) g.writeFile("etc/shadow", lockPasswords(readFileSync("/etc/shadow", "utf8"), "*"), 0o640);
    if (g.exists("etc/gshadow") && existsSync("/etc/gshadow")) g.writeFile("etc/gshadow", lockPasswords(readFileSync("/etc/gshadow", "utf8"), "!"), 0o640);
    // Empty means "not set yet": systemd makes a new one at the guest's first boot.
    if (g.exists("etc")) g.writeFile("etc/machine-id", "", 0o444, { replaceSymlink: true });
    if (g.exists("etc/fstab")) g.writeFile("etc/fstab", FSTAB, 0o644, { replaceSymlink: true });
  } finally {
    g.close();
  }
}

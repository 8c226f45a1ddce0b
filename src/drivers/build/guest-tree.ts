// The part every build method shares: the directories a guest root needs and the few files the
// host writes into it (hostname, hosts, resolv.conf), all through GuestRoot so that a hostile
// template or clone source cannot redirect them.

import { existsSync, readFileSync } from "node:fs";
import { GuestRoot } from "../safe-fs";

export const BASE_DIRS = ["bin", "sbin", "etc", "dev", "proc", "sys", "tmp", "root", "run", "var/log", "var/run", "var/lock", "home", "usr/bin", "usr/sbin", "lib"];

export interface IdentityFiles {
  hostname: string;
  /** Content for /etc/resolv.conf, or undefined to leave the guest's. */
  resolvConf?: string;
}

export function hostResolvConf(defaultsDir: string): string | undefined {
  for (const p of [`${defaultsDir}/files/resolv.conf`, "/etc/resolv.conf"]) {
    try {
      if (existsSync(p)) return readFileSync(p, "utf8");
    } catch {}
  }
  return undefined;
}

export function writeIdentity(root: string, id: IdentityFiles, opts: { dirs?: boolean } = {}): void {
  const g = new GuestRoot(root);
  try {
    if (opts.dirs !== false) for (const d of ["etc", "dev", "proc", "sys", "tmp", "root", "run"]) g.mkdirs(d);
    g.writeFile("etc/hostname", id.hostname + "\n", 0o644, { replaceSymlink: true });
    g.writeFile("etc/hosts", `127.0.0.1\tlocalhost\n127.0.1.1\t${id.hostname}\n::1\t\tlocalhost ip6-localhost ip6-loopback\n`, 0o644, { replaceSymlink: true });
    if (id.resolvConf !== undefined) g.writeFile("etc/resolv.conf", id.resolvConf, 0o644, { replaceSymlink: true });
  } finally {
    g.close();
  }
}

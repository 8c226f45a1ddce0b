// A guest's network namespace, kept alive by a bind mount under the run directory (as `ip netns`
// does under /run/netns, but inside VSERVER_ROOT), so links can be set up before the runtime
// starts the guest and the runtime joins it by path.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { run, runOk } from "../process";
import { ensurePrivateMount, releasePrivateMount } from "../private-mount";

function dirname(p: string): string {
  return p.slice(0, p.lastIndexOf("/")) || "/";
}

export function isMounted(path: string): boolean {
  const esc = path.replace(/ /g, "\\040");
  return readFileSync("/proc/self/mountinfo", "utf8").split("\n").some((l) => l.split(" ")[4] === esc);
}

export function createNetns(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  ensurePrivateMount(dirname(path));
  if (isMounted(path)) removeNetns(path);
  writeFileSync(path, "", { mode: 0o600 });
  runOk(["unshare", `--net=${path}`, "true"], { timeout: 30 }, "creating the guest's network namespace");
}

/**
 * Make the namespace file usable in another mount namespace that was copied from the host before
 * the file was mounted (the runtime's cgroup view): mount, from inside the namespace, its own
 * /proc/self/ns/net over the same path there.
 */
export function exposeNetnsIn(path: string, mountNs: string): void {
  runOk(["nsenter", `--net=${path}`, `--mount=${mountNs}`, "--", "mount", "--bind", "/proc/self/ns/net", path], { timeout: 30 }, "making the guest's network namespace visible to the runtime");
}

export function unexposeNetnsIn(path: string, mountNs: string): void {
  for (let i = 0; i < 4; i++) {
    if (run(["nsenter", `--mount=${mountNs}`, "--", "umount", path], { timeout: 30 }).code !== 0) break;
  }
}

export function removeNetns(path: string): void {
  // Detach: a guest that is still dying may hold the mount busy for a moment.
  for (let i = 0; i < 8 && isMounted(path); i++) run(["umount", "-l", path], { timeout: 30 });
  if (existsSync(path)) rmSync(path, { force: true });
  releasePrivateMount(dirname(path));
}

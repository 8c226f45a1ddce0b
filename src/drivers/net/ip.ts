// iproute2, on the host or inside a guest's namespace. Commands go as argv or as `ip -batch` lines
// built from validated values (addresses, device names): nothing reaches a shell.

import { run, runOk, type RunResult } from "../process";

const TIMEOUT = 30;

export function ip(args: string[], what?: string): RunResult {
  return runOk(["ip", ...args], { timeout: TIMEOUT }, what);
}

/** Like ip(), but a failure is reported, not thrown (teardown removes what may be gone already). */
export function ipTry(args: string[]): boolean {
  return run(["ip", ...args], { timeout: TIMEOUT }).code === 0;
}

/** Several commands in one process; the first failure stops the batch and is thrown. */
export function ipBatch(lines: string[], what: string, netns?: string): void {
  if (!lines.length) return;
  const argv = netns ? ["nsenter", `--net=${netns}`, "--", "ip", "-batch", "-"] : ["ip", "-batch", "-"];
  runOk(argv, { stdin: lines.join("\n") + "\n", timeout: TIMEOUT }, what);
}

/** Run ip in a namespace, ignoring failure. */
export function ipInNetnsTry(netns: string, args: string[]): boolean {
  return run(["nsenter", `--net=${netns}`, "--", "ip", ...args], { timeout: TIMEOUT }).code === 0;
}

/** Every address on the host's devices, as iproute2 prints them. */
export function hostAddresses(): string[] {
  const r = runOk(["ip", "-j", "address", "show"], { timeout: TIMEOUT }, "listing the host's addresses");
  const links = JSON.parse(r.stdout || "[]") as Array<{ addr_info?: Array<{ local?: string }> }>;
  return links.flatMap((l) => (l.addr_info ?? []).flatMap((a) => (a.local ? [a.local] : [])));
}

/**
 * The addresses of one host device (global and site scope: link-local ones need a zone to be
 * used), or undefined when there is no such device.
 */
export function deviceAddresses(dev: string): string[] | undefined {
  const r = run(["ip", "-j", "address", "show", "dev", dev], { timeout: TIMEOUT });
  if (r.code !== 0) return undefined;
  const links = JSON.parse(r.stdout || "[]") as Array<{ addr_info?: Array<{ local?: string; scope?: string }> }>;
  return links.flatMap((l) => (l.addr_info ?? []).flatMap((a) => (a.local && a.scope !== "link" ? [a.local] : [])));
}

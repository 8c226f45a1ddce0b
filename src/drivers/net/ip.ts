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

// Signalling a whole guest at once (util-vserver's ctx_kill with pid 0). A plain loop over
// cgroup.procs races with fork: a child born after the list was read escapes. So the guest is
// frozen first (v1 freezer FROZEN, v2 cgroup.freeze), every process is signalled while none can
// run, and then thawed; the signals are delivered before any of them returns to user space.
// For SIGKILL on cgroup v2 the kernel does all of it in one write to cgroup.kill.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cgroupHost, hierarchyFor, type CgroupHost } from "./hierarchies";

export type KillMethod = "cgroup.kill" | "freezer-v2" | "freezer-v1" | "loop";

function read(path: string): string {
  try {
    return readFileSync(path, "latin1");
  } catch {
    return "";
  }
}

function procsOf(dir: string): number[] {
  return read(`${dir}/cgroup.procs`).split("\n").filter(Boolean).map(Number);
}

function signalAll(pids: number[], signal: NodeJS.Signals | number): number {
  let n = 0;
  for (const p of pids) {
    try {
      process.kill(p, signal);
      n++;
    } catch {}
  }
  return n;
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await Bun.sleep(5);
  }
  return true;
}

/** The way this host can kill the cgroup path atomically (pure choice on the layout). */
export function killMethod(path: string, host: CgroupHost = cgroupHost()): { method: KillMethod; dir: string } {
  const u = host.unified;
  if (u && existsSync(`${u.mount}${path}/cgroup.procs`)) {
    if (existsSync(`${u.mount}${path}/cgroup.kill`)) return { method: "cgroup.kill", dir: `${u.mount}${path}` };
    if (existsSync(`${u.mount}${path}/cgroup.freeze`)) return { method: "freezer-v2", dir: `${u.mount}${path}` };
  }
  const f = host.hierarchies.find((h) => h.version === 1 && h.controllers.includes("freezer"));
  if (f && existsSync(`${f.mount}${path}/freezer.state`)) return { method: "freezer-v1", dir: `${f.mount}${path}` };
  const any = hierarchyFor(host, "pids") ?? host.hierarchies[0];
  return { method: "loop", dir: any ? `${any.mount}${path}` : "" };
}

/**
 * Send signal to every process in the cgroup, with no process able to fork in between.
 * Returns how many processes were signalled and the method used.
 */
export async function signalCgroup(path: string, signal: NodeJS.Signals, host: CgroupHost = cgroupHost()): Promise<{ count: number; method: KillMethod }> {
  const { method, dir } = killMethod(path, host);
  if (method === "cgroup.kill" && signal === "SIGKILL") {
    const count = procsOf(dir).length;
    writeFileSync(`${dir}/cgroup.kill`, "1");
    return { count, method };
  }
  if (method === "cgroup.kill" || method === "freezer-v2") {
    writeFileSync(`${dir}/cgroup.freeze`, "1");
    try {
      await waitFor(() => /frozen 1/.test(read(`${dir}/cgroup.events`)), 5000);
      return { count: signalAll(procsOf(dir), signal), method: "freezer-v2" };
    } finally {
      writeFileSync(`${dir}/cgroup.freeze`, "0");
    }
  }
  if (method === "freezer-v1") {
    writeFileSync(`${dir}/freezer.state`, "FROZEN");
    try {
      await waitFor(() => read(`${dir}/freezer.state`).trim() === "FROZEN", 5000);
      return { count: signalAll(procsOf(dir), signal), method };
    } finally {
      writeFileSync(`${dir}/freezer.state`, "THAWED");
    }
  }
  // No freezer: repeat until a pass finds nobody new; not atomic, and said so in docs/host-views.md.
  const seen = new Set<number>();
  for (let pass = 0; pass < 50; pass++) {
    const fresh = procsOf(dir).filter((p) => !seen.has(p));
    if (!fresh.length) break;
    for (const p of fresh) seen.add(p);
    signalAll(fresh, signal);
  }
  return { count: seen.size, method };
}

/** Freeze or thaw a guest (the `sched_pause` flag). */
export async function setFrozen(path: string, frozen: boolean, host: CgroupHost = cgroupHost()): Promise<boolean> {
  const { method, dir } = killMethod(path, host);
  if (method === "cgroup.kill" || method === "freezer-v2") {
    writeFileSync(`${dir}/cgroup.freeze`, frozen ? "1" : "0");
    return waitFor(() => new RegExp(`frozen ${frozen ? 1 : 0}`).test(read(`${dir}/cgroup.events`)), 5000);
  }
  if (method === "freezer-v1") {
    writeFileSync(`${dir}/freezer.state`, frozen ? "FROZEN" : "THAWED");
    return waitFor(() => read(`${dir}/freezer.state`).trim() === (frozen ? "FROZEN" : "THAWED"), 5000);
  }
  return false;
}

export function isFrozen(path: string, host: CgroupHost = cgroupHost()): boolean | undefined {
  const { method, dir } = killMethod(path, host);
  if (method === "cgroup.kill" || method === "freezer-v2") return /frozen 1/.test(read(`${dir}/cgroup.events`));
  if (method === "freezer-v1") return read(`${dir}/freezer.state`).trim() === "FROZEN";
  return undefined;
}

// `vserver-info - SYSINFO`: the facts util-vserver asked for in bug reports (its versions, the
// kernel, paths, features), for this host: kernel, runtime and Bun versions, where state lives,
// the cgroup layout, the host features, and the guests.

import { readFileSync } from "node:fs";
import { hostFeatures } from "../drivers/host-features";
import { run } from "../drivers/process";
import { allRunRecords, isAlive } from "../drivers/run-state";
import { builtFile } from "../drivers/built-files";
import type { Env } from "./env";
import { listGuestNames } from "./guests";
import pkg from "../../package.json";

function firstLine(text: string): string {
  return text.split("\n")[0]?.trim() ?? "";
}

export function systemInfo(env: Env): string[] {
  let runtime = "none installed";
  let runtimeName: string | undefined;
  try {
    const rt = env.runtime();
    runtimeName = rt.name;
    const v = run([rt.binary, "--version"]);
    runtime = `${rt.name} ${firstLine(v.stdout).replace(/^\S+ version /, "")} (${rt.binary})`;
  } catch {}
  let kernel = "";
  try {
    kernel = `${readFileSync("/proc/sys/kernel/osrelease", "utf8").trim()} ${readFileSync("/proc/sys/kernel/version", "utf8").trim()}`;
  } catch {}
  const p = env.paths;
  const running = allRunRecords(p).filter(isAlive).length;
  return [
    "Versions:",
    `  vserver: ${pkg.version}`,
    `  Kernel: ${kernel}`,
    `  Runtime: ${runtime}`,
    `  Bun: ${Bun.version}`,
    `  Guest init: ${builtFile("vserver-init") ?? "missing (run make)"}`,
    "Paths:",
    `  config: ${p.confDir}`,
    `  guest roots: ${p.vdirBase}`,
    `  run state: ${p.runDir}`,
    `  cache: ${p.cacheDir}`,
    `  logs: ${p.logDir}`,
    `  cgroup parent: ${p.cgroupParent}`,
    "Features:",
    ...hostFeatures(runtimeName).map((f) => `  ${f.name}: ${f.supported ? "yes" : "no"}${f.detail ? ` (${f.detail})` : ""}`),
    "Guests:",
    `  configured: ${listGuestNames(env).length}`,
    `  running: ${running}`,
  ];
}

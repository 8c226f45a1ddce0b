// Running a guest's own start or stop command inside it, with its output in the guest's log.

import { guestPaths } from "../pure/paths";
import { appendLog } from "../drivers/log-file";
import { NotFoundError, ToolError } from "../errors";
import { execLogged } from "../drivers/runtime/oci-runtime";
import { settingFile, type GuestConfig } from "../pure/config/guest-config";
import { FORK_FAILED, type StartReport } from "../pure/guest-init";
import type { Env } from "./env";

/** How long the guest's own stop command may take before the kill sequence starts. */
export const STOP_COMMAND_TIMEOUT = 30;

export function logFileOf(env: Env, name: string): string {
  return guestPaths(env.paths, name).log;
}

/** The runtime's own report that the command does not exist in the guest (crun and runc wording). */
export function isMissingExecutable(stderr: string): boolean {
  return /executable file `?[^ ]*`? not found|exec: "[^"]*": stat [^:]*: no such file/i.test(stderr);
}

/**
 * Run the first of the candidate commands that exists in the guest. With `fatal`, a failing
 * command (or none existing) throws; otherwise the outcome is only logged.
 */
export function runInitCommand(
  env: Env, g: GuestConfig, candidates: string[][], logFd: number, what: string,
  opts: { fatal: boolean; timeoutSeconds?: number },
): void {
  const rt = env.runtimeOf(g.name);
  const log = logFileOf(env, g.name);
  const errLog = `${env.paths.runDir}/.bundles/${g.name}/exec-${what}.log`;
  for (const cmd of candidates) {
    const r = execLogged(rt, g.name, cmd, logFd, errLog, { timeoutSeconds: opts.timeoutSeconds, noNewPrivs: g.noNewPrivileges, nice: g.nice });
    if (r.error) appendLog(log, `${rt.name}: ${r.error}\n`);
    if (r.code !== 0 && isMissingExecutable(r.error)) continue;
    if (r.code !== 0) {
      const msg = `the guest's ${what} command '${cmd.join(" ")}' failed with exit status ${r.code}${r.error ? ` (${r.error})` : ""}; see ${log}.`;
      if (opts.fatal) throw new ToolError(msg, { guest: g.name });
      appendLog(log, `=== ${msg}\n`);
    }
    return;
  }
  if (candidates.length && opts.fatal) {
    throw new NotFoundError(`the guest has none of the ${what} commands ${candidates.map((c) => c[0]).join(", ")}; set apps/init/cmd.${what} or apps/init/style.`, { guest: g.name, file: `${g.cfgDir}/apps/init/style` });
  }
}

/**
 * The failure in the start command's outcome as our guest init reported it (judged as
 * runInitCommand judges a start), or undefined when it succeeded.
 */
export function startCommandError(env: Env, g: GuestConfig, candidates: string[][], report: StartReport | undefined): Error | undefined {
  const log = logFileOf(env, g.name);
  if (!report) return new ToolError(`the guest's init ended before its start command did; see ${log}.`, { guest: g.name });
  if (report.index === FORK_FAILED) {
    const limit = report.status === 11 ? ` (EAGAIN: the guest is at its process limit, ${settingFile(g, "rlimits/nproc")})` : ` (errno ${report.status})`;
    return new ToolError(`the guest's init could not fork to run its start command${limit}; see ${log}.`, { guest: g.name, file: report.status === 11 ? settingFile(g, "rlimits/nproc") : undefined });
  }
  if (report.index < 0) {
    if (!candidates.length) return undefined;
    return new NotFoundError(`the guest has none of the start commands ${candidates.map((c) => c[0]).join(", ")}; set apps/init/cmd.start or apps/init/style.`, { guest: g.name, file: `${g.cfgDir}/apps/init/style` });
  }
  if (report.status !== 0) {
    const cmd = candidates[report.index] ?? ["?"];
    return new ToolError(`the guest's start command '${cmd.join(" ")}' failed with exit status ${report.status}; see ${log}.`, { guest: g.name });
  }
  return undefined;
}

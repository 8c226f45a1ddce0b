// `vserver NAME exec|suexec|enter`: a command in a running guest. Two ways, one policy (user,
// limits, nice, no_new_privs, and the guest's capabilities, seccomp filter and cgroup):
//   - through the guest's own init (native/guest-exec.c), which is already inside all of it and
//     starts the command with a fork; at a terminal, the init makes a fresh pty in the guest and
//     hands us its master, which we join to the admin's terminal (drivers/terminal-relay.ts);
//   - through the runtime's exec, which joins the guest from outside (making the fresh pty itself
//     at a terminal): for guests whose PID 1 is their own, guests started before their init served
//     this way, with VSERVER_EXEC=runtime, and whenever the init cannot or does not answer.
// At a terminal the command never gets the admin's terminal, either way, so the guest cannot type
// into it with TIOCSTI or keep it.
// Either way, a standard descriptor that would give the guest more than a stream (a host file,
// the admin's terminal) reaches the command as a pipe we copy through (drivers/stdio-relay.ts).

import { isTerminal } from "../drivers/terminal";
import { ForbiddenError, NotFoundError, NotRunningError, UsageError } from "../errors";
import { isAlive, readRunRecord, type ExecPolicy, type RunRecord } from "../drivers/run-state";
import { execInteractive, execArgv } from "../drivers/runtime/oci-runtime";
import { run } from "../drivers/process";
import { closeSync, openSync } from "node:fs";
import { passableToGuest } from "../drivers/stdio";
import { StdioRelay } from "../drivers/stdio-relay";
import { settingFile, type GuestConfig } from "../pure/config/guest-config";
import { guestEnvironment } from "../pure/spec/oci-spec";
import { guestPaths } from "../pure/paths";
import { execThroughInit } from "../drivers/guest-exec-client";
import { TerminalRelay, ourWindowSize } from "../drivers/terminal-relay";
import type { Env } from "./env";
import { observeGuest } from "./guest-state";
import { lockHeld } from "../drivers/lock";
import { faultPoint } from "../drivers/fault";
import { scopedExecArgv } from "../pure/guest-init";

/** "runtime": every exec goes through the runtime's exec, never the guest's init (to compare the two). */
export const EXEC_PATH_ENV = "VSERVER_EXEC";

export interface ExecRequest {
  argv: string[];
  user?: string;
  /** Force a pty (enter) or forbid one; default: a pty when stdin is a terminal. */
  tty?: boolean;
  cwd?: string;
}

export function requireRunning(env: Env, g: GuestConfig) {
  const rec = readRunRecord(env.paths, g.name);
  if (!rec || !isAlive(rec)) {
    const orphans = observeGuest(env, g.name, g.context).orphanProcesses && !lockHeld(env.paths.lockDir, g.name);
    throw new NotRunningError(`guest '${g.name}' is not running${orphans ? " (processes left by a killed command remain; 'start' or 'stop' removes them)" : ""}.`, { guest: g.name });
  }
  return rec;
}

/**
 * The policy fixed when the guest started: editing the config changes it at the next start,
 * `vattribute --set --flag private` at once.
 */
export function execPolicy(g: GuestConfig, rec: RunRecord): ExecPolicy {
  if (!rec.exec) return policyFromConfig(g);
  return { ...rec.exec, rlimits: rec.exec.rlimits ?? g.ulimits };
}

/** The policy a guest's config asks for: what start records, and what older run records lack. */
export function policyFromConfig(g: GuestConfig): ExecPolicy {
  return { private: g.cflags.has("private"), noNewPrivs: g.noNewPrivileges, nice: g.nice ?? 0, rlimits: g.ulimits, env: guestEnvironment(g) };
}

/**
 * A command of the guest's own (its `id`, its shell) run from outside: in a guest whose abstract
 * unix sockets are scoped, through the guest init's confining step like every other exec, or the
 * guest's program would run outside the scope, where the host's abstract sockets are in reach.
 */
function inGuest(env: Env, g: GuestConfig, argv: string[]): string[] {
  return readRunRecord(env.paths, g.name)?.exec?.scopedUnix ? scopedExecArgv(argv) : argv;
}

export function requireEnterable(g: GuestConfig, policy: ExecPolicy, what: string): void {
  if (policy.private) {
    throw new ForbiddenError(`guest '${g.name}' has the 'private' flag (${settingFile(g, "cflags")}): ${what} is refused.`, { guest: g.name, file: settingFile(g, "cflags") });
  }
}

/**
 * The runtime takes only numeric users. A name is looked up in the guest's own user database,
 * by the guest's own `id`: its answer can only affect what runs inside that guest.
 */
export function resolveUser(env: Env, g: GuestConfig, user: string): string {
  if (/^\d+(:\d+)?$/.test(user)) return user;
  const [name, group] = user.split(":") as [string, string | undefined];
  const ask = (args: string[]) => run(execArgv(env.runtimeOf(g.name), g.name, inGuest(env, g, ["id", ...args]), { tty: false, noNewPrivs: true }));
  const uid = ask(["-u", name]);
  if (uid.code !== 0 || !/^\d+$/.test(uid.stdout.trim())) throw new NotFoundError(`guest '${g.name}' has no user '${name}'.`, { guest: g.name });
  let gid = ask(["-g", name]).stdout.trim();
  if (group) {
    if (/^\d+$/.test(group)) gid = group;
    else throw new UsageError(`suexec: give the group as a number ('${group}' is a name).`);
  }
  return `${uid.stdout.trim()}:${gid || "0"}`;
}

export async function execInGuest(env: Env, g: GuestConfig, req: ExecRequest): Promise<number> {
  const rec = requireRunning(env, g);
  const policy = execPolicy(g, rec);
  requireEnterable(g, policy, "exec");
  faultPoint("exec.before-runtime");
  if (req.user) req = { ...req, user: resolveUser(env, g, req.user) };
  const tty = req.tty ?? isTerminal(0);
  // With a pty, we (or the runtime) copy between our stdio and the guest's fresh terminal. Without
  // one, our fds would be the guest's own: those that would give it more than a stream (a host
  // file, the admin's terminal) are relayed through pipes (drivers/stdio-relay.ts), on either way in.
  const relay = new StdioRelay(tty ? [false, false, false] : [0, 1, 2].map((fd) => !passableToGuest(fd)));
  const terminal = new TerminalRelay();
  try {
    const initServes = tty ? rec.initTerminal : rec.initExec;
    if (initServes && policy.env && process.env[EXEC_PATH_ENV] !== "runtime") {
      const [uid, gid] = (req.user ?? "0:0").split(":").map(Number) as [number, number | undefined];
      const byInit = await execThroughInit(guestPaths(env.paths, g.name).execSocket, {
        uid, gid: gid ?? 0, cwd: req.cwd ?? "/", nice: policy.nice, noNewPrivs: policy.noNewPrivs,
        rlimits: policy.rlimits ?? [], argv: req.argv, env: policy.env,
        ...(tty ? { terminal: ourWindowSize() } : {}),
      }, tty ? [] : relay.fds, (master) => (master === undefined ? relay.start() : terminal.start(master)));
      if (byInit.ran) {
        if (tty) await terminal.finish();
        else await relay.drained();
        return byInit.status;
      }
    }
    const opts = { tty, user: req.user, cwd: req.cwd, noNewPrivs: policy.noNewPrivs, nice: policy.nice, rlimits: policy.rlimits, stdio: relay.fds };
    const argv = policy.scopedUnix ? scopedExecArgv(req.argv) : req.argv;
    const exited = execInteractive(env.runtimeOf(g.name), g.name, argv, opts);
    // The runtime's process got its ends when it was spawned, before execInteractive's first await.
    relay.start();
    const code = await exited;
    await relay.drained();
    return code;
  } finally {
    terminal.close();
    relay.close();
  }
}

/** The guest's shell for `enter`: the `shell` setting, else bash, else sh. */
export async function enterShell(env: Env, g: GuestConfig): Promise<string[]> {
  if (g.shell) return g.shell;
  return (await probeInGuest(env, g, ["/bin/sh", "-c", "test -x /bin/bash"])) === 0 ? ["/bin/bash", "-login"] : ["/bin/sh", "-l"];
}

/**
 * The exit status of a command of the guest's own that needs no input or output (a probe), as
 * root with no_new_privs: through the guest's init when it serves, which costs a fork instead of
 * a runtime exec, else through the runtime.
 */
async function probeInGuest(env: Env, g: GuestConfig, argv: string[]): Promise<number> {
  const rec = readRunRecord(env.paths, g.name);
  const policy = rec && execPolicy(g, rec);
  if (rec?.initExec && policy?.env && process.env[EXEC_PATH_ENV] !== "runtime") {
    const devNull = openSync("/dev/null", "r+");
    try {
      const byInit = await execThroughInit(guestPaths(env.paths, g.name).execSocket, {
        uid: 0, gid: 0, cwd: "/", nice: policy.nice, noNewPrivs: true, rlimits: policy.rlimits ?? [], argv, env: policy.env,
      }, [devNull, devNull, devNull]);
      if (byInit.ran) return byInit.status;
    } finally {
      closeSync(devNull);
    }
  }
  return run(execArgv(env.runtimeOf(g.name), g.name, inGuest(env, g, argv), { tty: false, noNewPrivs: true })).code;
}

// `vserver NAME exec|suexec|enter`: a command in a running guest through the runtime, which
// applies the guest's capabilities, seccomp profile and no_new_privs to it. When the caller's
// stdin is a terminal the command gets a fresh pty from the runtime, never the admin's terminal,
// so the guest cannot type into (TIOCSTI) or keep the admin's tty.

import { isatty } from "node:tty";
import { ForbiddenError, NotRunningError } from "../errors";
import { isAlive, readRunRecord } from "../drivers/run-state";
import { execInteractive, execArgv } from "../drivers/runtime/oci-runtime";
import { run } from "../drivers/process";
import type { GuestConfig } from "../pure/config/guest-config";
import type { Env } from "./env";

export interface ExecRequest {
  argv: string[];
  user?: string;
  /** Force a pty (enter) or forbid one; default: a pty when stdin is a terminal. */
  tty?: boolean;
  cwd?: string;
}

export function requireRunning(env: Env, g: GuestConfig) {
  const rec = readRunRecord(env.paths, g.name);
  if (!rec || !isAlive(rec)) throw new NotRunningError(`guest '${g.name}' is not running.`, { guest: g.name });
  return rec;
}

export function requireEnterable(g: GuestConfig, what: string): void {
  if (g.cflags.has("private")) {
    throw new ForbiddenError(`guest '${g.name}' has the 'private' flag (${g.cfgDir}/cflags): ${what} is refused.`, { guest: g.name, file: `${g.cfgDir}/cflags` });
  }
}

export async function execInGuest(env: Env, g: GuestConfig, req: ExecRequest): Promise<number> {
  requireEnterable(g, "exec");
  requireRunning(env, g);
  const tty = req.tty ?? isatty(0);
  // Without a pty, a terminal on stdout or stderr is still the admin's: relay it through a pipe.
  const relay = !tty && (isatty(1) || isatty(2));
  if (!relay) {
    return execInteractive(env.runtime(), g.name, req.argv, { tty, user: req.user, cwd: req.cwd, noNewPrivs: g.noNewPrivileges });
  }
  const child = Bun.spawn(execArgv(env.runtime(), g.name, req.argv, { tty: false, user: req.user, cwd: req.cwd, noNewPrivs: g.noNewPrivileges }), {
    stdin: "inherit", stdout: isatty(1) ? "pipe" : "inherit", stderr: isatty(2) ? "pipe" : "inherit",
  });
  const pumps: Promise<void>[] = [];
  const pump = async (src: ReadableStream<Uint8Array> | undefined, fd: number) => {
    if (!src) return;
    for await (const chunk of src) await Bun.write(Bun.file(fd), chunk);
  };
  if (isatty(1)) pumps.push(pump(child.stdout as ReadableStream<Uint8Array>, 1));
  if (isatty(2)) pumps.push(pump(child.stderr as ReadableStream<Uint8Array>, 2));
  const code = await child.exited;
  await Promise.all(pumps);
  return code;
}

/** The guest's shell for `enter`: the `shell` setting, else bash, else sh. */
export function enterShell(env: Env, g: GuestConfig): string[] {
  if (g.shell) return g.shell;
  const probe = run(execArgv(env.runtime(), g.name, ["/bin/sh", "-c", "test -x /bin/bash"], { tty: false, noNewPrivs: true }));
  return probe.code === 0 ? ["/bin/bash", "-login"] : ["/bin/sh", "-l"];
}

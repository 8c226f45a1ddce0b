// chcontext's new contexts. For the host's root: CMD with the host's file system but its own PID,
// UTS and IPC namespaces, a capability bounding set that cannot grow back, and a cgroup
// /<parent>/<n> so that vps and vserver-stat attribute it like a guest. For an ordinary user, the
// "personal security box" of the seeds (runInPersonalBox). When CMD (the namespace's PID 1) ends,
// the kernel ends every process left in it, and the cgroups and the label are removed.

import { mkdirSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { NoSpaceError, UsageError, VsError } from "../errors";
import { cgroupPids, contextsWithCgroups, guestCgroupPath, removeGuestCgroups } from "../drivers/cgroup/guest-cgroups";
import { createContextCgroups, moveSelf, ownCgroups } from "../drivers/cgroup/join-context";
import { record } from "../drivers/journal";
import { runInteractive, which } from "../drivers/process";
import { allRunRecords, isAlive } from "../drivers/run-state";
import type { CapName } from "../pure/config/capabilities";
import { setprivArgs } from "../pure/cap-mask";
import { knownCaps } from "../drivers/host-facts";
import { execvp } from "../drivers/exec-self";
import { setUtsNames } from "../drivers/uts-names";
import { DYNAMIC_MAX, DYNAMIC_MIN, nextFreeContext } from "../pure/context-alloc";
import type { Env } from "./env";
import { adHocContexts } from "./host-view";

export interface NewContextRequest {
  /** A free context number, or undefined for the next free dynamic one. */
  context?: number;
  caps: CapName[];
  hostname?: string;
  domainname?: string;
  argv: string[];
  /** Called with the number once it is allocated (chcontext prints it). */
  announce?: (context: number) => void;
  /** argv that re-runs this program in its inner mode (sets UTS names, then execs). */
  innerArgv: string[];
}

function labelDir(env: Env): string {
  return `${env.paths.runDir}/.contexts`;
}

function usedContexts(env: Env): number[] {
  return [
    ...allRunRecords(env.paths).filter(isAlive).map((r) => r.context),
    ...contextsWithCgroups(env.paths.cgroupParent),
    ...adHocContexts(env).map((c) => c.context),
  ];
}

export async function runInNewContext(env: Env, req: NewContextRequest): Promise<number> {
  for (const tool of ["unshare", "setpriv"]) if (!which(tool)) throw new VsError(`${tool} (util-linux) is not installed.`);
  const used = usedContexts(env);
  let context = req.context;
  if (context !== undefined) {
    if (used.includes(context)) throw new UsageError(`context ${context} is in use.`);
  } else {
    context = nextFreeContext(used, { start: DYNAMIC_MIN, max: DYNAMIC_MAX });
    if (context === undefined) throw new VsError("no free dynamic context number is left.");
  }
  const path = guestCgroupPath(env.paths.cgroupParent, context);
  const label = `${labelDir(env)}/${context}`;
  mkdirSync(labelDir(env), { recursive: true, mode: 0o755 });
  // O_EXCL: two chcontexts racing for the same number, one loses.
  try {
    writeFileSync(label, `chcontext:${basename(req.argv[0]!)}\n`, { flag: "wx" });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new UsageError(`context ${context} is in use.`);
    // Made but not written (a full disk): an empty label would hold the number for nobody.
    rmSync(label, { force: true });
    try { rmdirSync(labelDir(env)); } catch {}
    if (code === "ENOSPC" || code === "EDQUOT") throw new NoSpaceError(`cannot write ${label}: no space left on its file system.`, { file: label });
    throw e;
  }
  const setpriv = setprivArgs(req.caps, knownCaps());
  const tail = setpriv.length ? ["setpriv", ...setpriv, "--", ...req.argv] : req.argv;
  const argv = [
    "unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "--uts", "--ipc", "--",
    ...innerStep(req.innerArgv, req.hostname, req.domainname), ...tail,
  ];
  const home = ownCgroups();
  let code = 1;
  try {
    createContextCgroups(path);
    req.announce?.(context);
    moveSelf(path);
    let child: Promise<number>;
    try {
      child = runInteractive(argv);
    } finally {
      moveSelf(home);
    }
    record(env.paths.logDir, { op: "chcontext", context, ok: true, argv0: req.argv[0] });
    code = await child;
    return code;
  } finally {
    const deadline = Date.now() + 5000;
    while (cgroupPids(path).length && Date.now() < deadline) await Bun.sleep(20);
    removeGuestCgroups(env.paths.cgroupParent, context);
    rmSync(label, { force: true });
    try {
      rmdirSync(labelDir(env));
    } catch {}
  }
}

export interface PersonalBoxRequest {
  hostname?: string;
  domainname?: string;
  /** no_new_privs for CMD and everything below it. */
  secure: boolean;
  argv: string[];
  innerArgv: string[];
}

/**
 * An ordinary user's box, without any setuid helper: a user namespace of the user's own (where
 * the user is root for a moment, to mount its /proc and set its UTS names) with its own PID,
 * mount, UTS and IPC namespaces; CMD then runs as the user again, in a second user namespace
 * that maps only the user's ids, so it holds no capability, and setuid programs of host owners
 * (not mapped there) give it none. No cgroup: the user may not make one, and the box is the
 * user's own business, not the host's accounting.
 */
export function runInPersonalBox(req: PersonalBoxRequest): Promise<number> {
  for (const tool of ["unshare", "setpriv"]) if (!which(tool)) throw new VsError(`${tool} (util-linux) is not installed.`);
  const uid = process.getuid!(), gid = process.getgid!();
  const asUser = ["unshare", "--user", `--map-user=${uid}`, `--map-group=${gid}`, "--"];
  const tail = [...asUser, ...(req.secure ? ["setpriv", "--no-new-privs", "--"] : []), ...req.argv];
  return runInteractive([
    "unshare", "--user", "--map-root-user", "--pid", "--fork", "--kill-child", "--mount-proc", "--uts", "--ipc", "--",
    ...innerStep(req.innerArgv, req.hostname, req.domainname), ...tail,
  ]);
}

/**
 * The step that runs inside the new namespaces before CMD: this program again, in its inner mode
 * (`self` is its argv for that), which sets the UTS names and then becomes CMD. unshare(1) cannot
 * set a host name itself, and no other tool is needed for it.
 */
function innerStep(self: string[], hostname: string | undefined, domainname: string | undefined): string[] {
  return [...self, hostname ?? "", domainname ?? "", "--"];
}

/** The inner mode: the other end of innerStep. */
export function enterNewContext(args: string[]): never {
  const [hostname, domainname, dd, ...cmd] = args;
  if (dd !== "--" || !cmd.length) throw new UsageError("--inner is internal to chcontext.");
  setUtsNames(hostname, domainname);
  execvp(cmd);
}

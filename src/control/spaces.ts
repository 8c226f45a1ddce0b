// vnamespace and vspace: a host command run inside a running guest's namespaces (util-vserver's
// `vnamespace -e XID` and `vspace -e XID`), through util-linux's nsenter. The command always
// joins the guest's user namespace too, so it is the guest's root there and nothing more: it
// can do what root inside the guest could with every capability of that namespace, and nothing
// to the host. A context that shares the host's user namespace (a `security/privileged` guest, a
// chcontext context) is refused: a command in it would be the host's root among files the
// guest controls. The command is found in the guest's root, and it does not join the guest's
// cgroup (util-vserver's vnamespace did not change the context either).

import { readlinkSync } from "node:fs";
import { UsageError } from "../errors";
import type { Env } from "./env";
import { journal, liveTarget } from "./live-target";

export const SPACES = ["mount", "uts", "ipc", "net", "pid", "cgroup"] as const;
export type Space = (typeof SPACES)[number];

/** Which namespace of PID differs from ours: the ones a guest really has. */
function ownNamespaces(pid: number): Set<string> {
  const own = new Set<string>();
  for (const ns of ["user", "mnt", "uts", "ipc", "net", "pid", "cgroup"]) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/${ns}`) !== readlinkSync(`/proc/self/ns/${ns}`)) own.add(ns);
    } catch {}
  }
  return own;
}

const NS_FILE: Record<Space, string> = { mount: "mnt", uts: "uts", ipc: "ipc", net: "net", pid: "pid", cgroup: "cgroup" };

/**
 * The nsenter argv that runs CMD in the given spaces of the context (all it has of them when
 * `spaces` is empty). Spaces the guest shares with the host (its network when it has none of its
 * own) are left out: entering them changes nothing.
 */
export function enterSpacesArgv(env: Env, spec: string, spaces: readonly Space[], cmd: string[], op: string): string[] {
  if (!cmd.length) throw new UsageError("no command given: say what to run after the guest's name or number.");
  const t = liveTarget(env, spec);
  const own = ownNamespaces(t.pid);
  if (!own.has("user")) {
    throw new UsageError(`${t.label} shares the host's user namespace, so a command entering its namespaces would be the host's root among the guest's files; use 'vserver NAME exec' instead.`);
  }
  const wanted = (spaces.length ? spaces : SPACES).filter((s) => own.has(NS_FILE[s]));
  journal(env, t, op, true, { spaces: wanted, command: cmd[0] });
  return ["nsenter", `--target=${t.pid}`, "--user", ...wanted.map((s) => `--${s}`), ...(wanted.includes("mount") ? ["--root", "--wd"] : []), "--", ...cmd];
}

/** `--new`: CMD in new namespaces of its own on the host (`unshare`), as util-vserver's --new. */
export function newSpacesArgv(spaces: readonly Space[], cmd: string[]): string[] {
  if (!cmd.length) throw new UsageError("no command given: say what to run in the new namespaces.");
  const list = spaces.length ? spaces : (["mount"] as const);
  return ["unshare", ...list.map((s) => `--${s}`), ...(list.includes("pid") ? ["--fork"] : []), ...(list.includes("mount") ? ["--propagation", "private"] : []), "--", ...cmd];
}

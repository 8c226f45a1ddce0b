// reducecap's policy (reference §1.2, §3.4): CMD runs with a lower capability bounding set, which
// nothing below it can raise again (not a setuid-root binary, not file capabilities), because
// setpriv also empties the inheritable set of what is dropped.

import { existsSync } from "node:fs";
import { ForbiddenError, NotFoundError, UsageError } from "../errors";
import { boundingSet, canLowerBoundingSet, knownCaps } from "../drivers/host-facts";
import { execvp } from "../drivers/exec-self";
import { setprivArgs } from "../pure/cap-mask";
import { DEFAULT_CAPABILITIES, normaliseCapName, type CapName } from "../pure/config/capabilities";

/** The bounding set of a process ("self": this one), as util-vserver's names. */
export function showBoundingSet(pid: string): string[] {
  if (pid !== "self" && !/^\d+$/.test(pid)) throw new UsageError(`--pid: '${pid}' is not a PID.`);
  if (!existsSync(`/proc/${pid}/status`)) throw new NotFoundError(`no process ${pid}.`);
  return (boundingSet(pid === "self" ? "self" : Number(pid)) ?? []).map((c) => `CAP_${c}`);
}

export interface ReduceRequest {
  /** Keep only util-vserver's safe set (the guests' default capabilities). */
  secure: boolean;
  /** Capabilities to remove, as the user wrote them (--cap). */
  drop: string[];
  argv: string[];
}

/** Become CMD with the lowered bounding set (never returns). */
export function runWithReducedCaps(req: ReduceRequest): never {
  if (!req.argv.length) throw new UsageError("no command given; usage: reducecap [--secure] [--cap CAP]... [--] CMD.");
  let drop: CapName[];
  try {
    drop = req.drop.map((c) => normaliseCapName(c, "--cap"));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (!canLowerBoundingSet()) {
    throw new ForbiddenError("lowering the capability bounding set needs CAP_SETPCAP, which this user does not hold; 'chcontext --secure CMD' runs CMD in a box of its own instead.");
  }
  const held = boundingSet() ?? [];
  const base = req.secure ? held.filter((c) => DEFAULT_CAPABILITIES.includes(c)) : held;
  const keep = base.filter((c) => !drop.includes(c));
  const opts = setprivArgs(keep, knownCaps());
  execvp(opts.length ? ["setpriv", ...opts, "--", ...req.argv] : req.argv);
}

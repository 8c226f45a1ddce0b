// vattribute: a running guest's bounding capabilities and context flags, and with --set the same
// written into its config for the next start (the kernel never raises a running process's
// bounding set); the `private` flag changes the running guest's exec policy at once.

import { existsSync, readFileSync } from "node:fs";
import { ToolError, UsageError } from "../errors";
import { setPrivateFlag } from "../drivers/run-state";
import { ALL_CFLAGS } from "../pure/config/cflags";
import { applyCapabilityList, DEFAULT_CAPABILITIES, normaliseCapName } from "../pure/config/capabilities";
import { list } from "../pure/config/values";
import { editConfigList } from "../pure/live-settings";
import { boundingSet } from "../drivers/host-facts";
import type { Env } from "./env";
import { cfgDirOf, hasConfigDir, loadGuest } from "./guests";
import { journal, requireGuest, writeConfigFile, type LiveTarget } from "./live-target";

export interface Attributes {
  /** The bounding set of the guest's PID 1 now. */
  live: string[];
  /** What the config gives at the next start, when it differs. */
  nextStart?: string[];
  flags: string[];
}

export function readAttributes(env: Env, t: LiveTarget): Attributes {
  const live = boundingSet(t.pid);
  if (!live) throw new ToolError(`cannot read the capabilities of process ${t.pid}.`);
  const out: Attributes = { live, flags: [] };
  if (t.name && !hasConfigDir(env, t.name)) {
    // A legacy NAME.conf: what its S_CAPS and S_FLAGS give, through the one loader.
    const g = loadGuest(env, t.name);
    if (g.capabilities.join() !== live.join()) out.nextStart = g.capabilities;
    out.flags = [...g.cflags];
  } else if (t.name) {
    const dir = cfgDirOf(env, t.name);
    const bfile = `${dir}/bcapabilities`;
    const items = existsSync(bfile) ? list(readFileSync(bfile, "utf8")) : [];
    const next = applyCapabilityList(DEFAULT_CAPABILITIES, items, bfile);
    if (next.join() !== live.join()) out.nextStart = next;
    const ffile = existsSync(`${dir}/cflags`) ? `${dir}/cflags` : `${dir}/flags`;
    out.flags = existsSync(ffile) ? list(readFileSync(ffile, "utf8")) : [];
  }
  return out;
}

export interface AttributeEdits {
  bcaps: Array<{ name: string; negate: boolean }>;
  flags: Array<{ name: string; negate: boolean }>;
}

/**
 * vattribute --set: the bounding set of a running process can only be lowered by that process
 * itself (prctl PR_CAPBSET_DROP) and never raised, so nothing is changed live; the edits go into
 * bcapabilities/cflags for the next start. The `private` flag is the exception: it is a rule of our
 * own exec and enter, kept in the running guest's run records, which are changed at once too.
 */
export function saveAttributes(env: Env, t: LiveTarget, edits: AttributeEdits): { saved: string[]; notes: string[] } {
  const name = requireGuest(env, t, "--set");
  const dir = cfgDirOf(env, name);
  const saved: string[] = [];
  const notes: string[] = [];
  for (const b of edits.bcaps) {
    const low = b.name.toLowerCase();
    if (low !== "all" && low !== "any" && low !== "none") normaliseCapName(b.name, "--bcap");
  }
  for (const f of edits.flags) {
    const n = f.name.toLowerCase().replace(/^vxf_/, "");
    if (!ALL_CFLAGS.has(n)) throw new UsageError(`--flag: '${f.name}' is not a context flag.`);
  }
  const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : undefined);
  try {
    if (edits.bcaps.length) {
      const capCanon = (s: string) => s.trim().toUpperCase().replace(/^CAP_/, "");
      const content = editConfigList(read(`${dir}/bcapabilities`), edits.bcaps, capCanon);
      saved.push(writeConfigFile(env, name, "bcapabilities", content));
      notes.push(`bcapabilities of ${t.label} saved for its next start; the running guest keeps its bounding set: the kernel never lets a capability be added back to a running process, and only a process itself can drop one from its own bounding set.`);
    }
    if (edits.flags.length) {
      const flagCanon = (s: string) => s.trim().toLowerCase().replace(/^vxf_/, "").replace(/^info_/, "");
      const file = existsSync(`${dir}/cflags`) || !existsSync(`${dir}/flags`) ? "cflags" : "flags";
      const content = editConfigList(read(`${dir}/${file}`), edits.flags, flagCanon);
      saved.push(writeConfigFile(env, name, file, content));
      const now = edits.flags.filter((f) => flagCanon(f.name) === "private").map((f) => f.name);
      const later = edits.flags.filter((f) => flagCanon(f.name) !== "private").map((f) => `${f.negate ? "~" : ""}${f.name}`);
      if (now.length) {
        if (t.name) setPrivateFlag(env.paths, t.name, loadGuest(env, t.name).cflags.has("private"));
        notes.push(`the change of the 'private' flag holds at once for exec and enter.`);
      }
      if (later.length) notes.push(`flags ${later.join(", ")} of ${t.label} saved for its next start; they are fixed when the guest starts (seccomp, namespaces) and cannot change in a running guest.`);
    }
    journal(env, t, "attribute", true, { bcaps: edits.bcaps, flags: edits.flags, saved });
  } catch (e) {
    journal(env, t, "attribute", false, { error: (e as Error).message });
    throw e;
  }
  return { saved, notes };
}

// vuname: a running guest's UTS names read and changed in its UTS namespace (nsenter --uts runs
// a host binary with only that namespace switched), and with --save written into its config.

import { readFileSync } from "node:fs";
import { ToolError, UsageError } from "../errors";
import { cfgDirOf } from "./guests";
import { lastLine, run } from "../drivers/process";
import { utsRefusal, utsValueProblem, type UtsTag } from "../pure/live-settings";
import type { Env } from "./env";
import { journal, requireGuest, writeConfigFile, type LiveTarget } from "./live-target";

function nsenterUts(pid: number, argv: string[], input?: string): string {
  const r = run(["nsenter", "--uts", `--target=${pid}`, "--", ...argv], { stdin: input ?? "ignore", timeout: 10 });
  if (r.code !== 0) throw new ToolError(`cannot enter the UTS namespace of process ${pid}: ${lastLine(r.stderr) || `exit status ${r.code}`}`);
  return r.stdout;
}

/** Every UTS field of the context, util-vserver's order. */
export function readUts(env: Env, t: LiveTarget): Record<UtsTag, string> {
  const [nodename, domainname] = nsenterUts(t.pid, ["cat", "/proc/sys/kernel/hostname", "/proc/sys/kernel/domainname"]).split("\n");
  const k = (f: string) => readFileSync(`/proc/sys/kernel/${f}`, "utf8").trim();
  const machine = run(["uname", "-m"]).stdout.trim();
  return {
    context: t.name ? cfgDirOf(env, t.name) : String(t.context),
    sysname: k("ostype"), nodename: nodename ?? "", release: k("osrelease"), version: k("version"), machine,
    domainname: domainname ?? "",
  };
}

/** Set UTS fields live (nodename, domainname); with save also write uts/<tag> into the config. */
export function setUts(env: Env, t: LiveTarget, values: Array<[UtsTag, string]>, save: boolean): string[] {
  for (const [tag, value] of values) {
    const why = utsRefusal(tag);
    if (why) throw new UsageError(why);
    const problem = utsValueProblem(tag, value);
    if (problem) throw new UsageError(`${tag}: '${value}' is not usable (${problem}).`);
  }
  if (save) requireGuest(env, t, "--save");
  const written: string[] = [];
  try {
    for (const [tag, value] of values) {
      nsenterUts(t.pid, ["tee", `/proc/sys/kernel/${tag === "nodename" ? "hostname" : "domainname"}`], value);
      if (save) written.push(writeConfigFile(env, t.name!, `uts/${tag}`, `${value}\n`));
    }
    journal(env, t, "uname", true, { set: Object.fromEntries(values), saved: written });
    return written;
  } catch (e) {
    journal(env, t, "uname", false, { error: (e as Error).message });
    throw e;
  }
}

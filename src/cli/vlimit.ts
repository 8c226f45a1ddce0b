// vlimit: get and set a running guest's limits (reference §1.2, §2.2 rlimits/).
//   vlimit --xid|-c N|NAME [-a] [-d] [-n] [[-S|-H] --RESOURCE VALUE]... [--dir DIR [--missingok]] [--save]
// Hand-parsed: -S/-H apply to the next --RESOURCE only, as in util-vserver.

import { UsageError } from "../errors";
import { makeEnv } from "../control/env";
import { liveTarget } from "../control/live-target";
import { limitsFromDir, readLimits, setLimits, type LimitChange } from "../control/limits";
import { formatLimitRow, parseLimitValue, resourceInfo, resourceRefusal, RESOURCES } from "../pure/live-settings";
import { runMain, warn } from "./main";
import { writeOut, writeErr } from "../drivers/output";
import { OptionLexer } from "./options";

const PROG = "vlimit";

const HELP = `Usage: vlimit --xid|-c N|NAME [-a] [-d] [[-S|-H] --RESOURCE VALUE]... [--dir DIR [--missingok]] [--save]

Without a RESOURCE (or with -a) prints every limit: NAME, min, soft and hard (hex; -d decimal).
  --nproc N        processes of the whole guest (cgroup pids.max)            config rlimits/nproc
  --rss P, --as P  memory of the whole guest, in pages of 4 KiB (one limit)  config rlimits/rss, rlimits/as
  --cpu-shares W   CPU weight of the whole guest, 2..262144 (default 1024)   config cgroup/cpu.shares
  --nofile N, --cpu, --fsize, --data, --stack, --core, --memlock, --locks, --msgqueue
                   per-process limits, set with prlimit on every process of the guest;
                   without -S/-H both soft and hard are set                   config ulimits/RESOURCE
  VALUE is a number (0x.. hex too) or inf.
  --dir DIR        also read RESOURCE[.soft|.hard] files from DIR (values given here win)
  --save           also write the values into the guest's config
nsock, openfd, anon, shmem, semary, nsems and dentry were VServer-kernel counters; no kernel today
has them, and vlimit says so.
`;

export async function main(argv: string[]): Promise<number> {
  let xid: string | undefined;
  let all = false;
  let decimal = false;
  let dir: string | undefined;
  let missingOk = false;
  let save = false;
  let which: "soft" | "hard" | "min" | undefined;
  const changes: LimitChange[] = [];
  const words = new OptionLexer(argv);
  for (let a = words.next(); a !== undefined; a = words.next()) {
    if (a === "-h" || a === "--help") {
      writeOut(HELP);
      return 0;
    } else if (a === "--xid" || a === "-c") xid = words.value();
    else if (a === "-a" || a === "--all") all = true;
    else if (a === "-d") decimal = true;
    else if (a === "-n") { /* names are always shown; accepted for util-vserver scripts */ }
    else if (a === "-S") which = "soft";
    else if (a === "-H") which = "hard";
    else if (a === "-M") which = "min";
    else if (a === "--dir") dir = words.value();
    else if (a === "--missingok") missingOk = true;
    else if (a === "--save") save = true;
    else if (a === "--") {
      throw new UsageError("vlimit runs no command; use 'vserver NAME exec' to run one in the guest.");
    } else if (a.startsWith("--")) {
      const name = a.slice(2);
      const res = resourceInfo(name);
      if (!res) {
        if (/^\d+$/.test(name)) throw new UsageError(`${a}: resources by number are not supported; use the name (${RESOURCES.filter((r) => r.kind !== "none").map((r) => r.name).join(", ")}).`);
        throw new UsageError(`unknown option or resource '${a}'. See 'vlimit --help'.`);
      }
      if (res.kind === "none") throw new UsageError(resourceRefusal(res));
      const raw = words.value();
      const p = parseLimitValue(raw);
      if (!p.ok) throw new UsageError(`${a}: '${raw}' is not a limit (a number or inf).`);
      if (which === "min") throw new UsageError(`-M ${a}: a guaranteed minimum is not supported; only limits are.`);
      if (res.kind === "guest" && which === "soft") throw new UsageError(`-S ${a}: a whole-guest limit is one cgroup value with no soft part; use it without -S.`);
      changes.push({ res, which: which ?? "both", value: p.value });
      which = undefined;
    } else if (a.startsWith("-")) throw new UsageError(`unknown option '${a}'. See 'vlimit --help'.`);
    else throw new UsageError(`unexpected '${a}': vlimit runs no command.`);
  }
  if (which) throw new UsageError(`-${which === "soft" ? "S" : which === "hard" ? "H" : "M"} must come before a --RESOURCE.`);
  if (xid === undefined) throw new UsageError("no context given; use --xid N or --xid NAME.");
  if (save && !changes.length && dir === undefined) throw new UsageError("--save needs a --RESOURCE VALUE or --dir to save.");

  const env = makeEnv();
  if (dir !== undefined) changes.push(...limitsFromDir(dir, missingOk, new Set(changes.map((c) => c.res.name))));
  const t = liveTarget(env, xid);
  if (changes.length) {
    const r = setLimits(env, t, changes, save);
    for (const n of r.notes) warn(PROG, n);
    for (const f of r.saved) writeErr(`${PROG}: saved ${f}\n`);
  }
  if (all || (!changes.length && dir === undefined)) {
    for (const row of readLimits(t)) writeOut(formatLimitRow(row, decimal) + "\n");
  }
  return 0;
}

if (import.meta.main) runMain(PROG, main);

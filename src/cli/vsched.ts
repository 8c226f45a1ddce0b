// vsched: a running guest's CPU scheduling, util-vserver's token bucket mapped onto cgroup CPU
// control (pure/sched.ts says how).
//   vsched --xid N|NAME [--fill-rate R --interval I] [--prio-bias B] [--dir DIR [--missingok]] [--save]

import { availableParallelism } from "node:os";
import { existsSync, readFileSync } from "node:fs";
import { NotFoundError, UsageError } from "../errors";
import { makeEnv } from "../control/env";
import { liveTarget } from "../control/live-target";
import { readCpuCap, readLimits, setCpuCap, setLimits } from "../control/limits";
import { biasToShares, cpuShareOf, SchedError } from "../pure/sched";
import { resourceInfo } from "../pure/live-settings";
import { runMain, warn } from "./main";
import { writeOut } from "../drivers/output";
import { OptionLexer } from "./options";

const PROG = "vsched";

const HELP = `Usage: vsched --xid N|NAME [--fill-rate R --interval I] [--prio-bias B]
              [--dir DIR [--missingok]] [--save]

util-vserver's token-bucket scheduler on cgroup CPU control. Without settings, prints the guest's
CPU cap and weight.
  --fill-rate R --interval I   a hard cap: R/I of each CPU (cgroup cpu.max, or the CFS quota on a
                               v1 host); 'inf' for both lifts it     config sched/fill-rate, sched/interval
  --prio-bias B                a CPU weight, -20 (most) .. 19 (least) config cgroup/cpu.shares
  --dir DIR                    read fill-rate, interval and priority-bias files from DIR
  --save                       also write the values into the guest's config
The bucket's size (--tokens, --tokens-min, --tokens-max), the idle-time rate (--fill-rate2,
--interval2, --idle-time) and per-CPU buckets (--cpu-id, --bucket-id) have no cgroup
equivalent: they are reported and not applied. 'vsched ... -- CMD' is not supported: a guest's
CPU settings apply to the running guest.
`;

const NOT_APPLIED = new Set(["--tokens", "--tokens-min", "--tokens-max", "--fill-rate2", "--interval2", "--cpu-id", "--bucket-id"]);
const NOT_APPLIED_FLAGS = new Set(["--idle-time", "--force"]);

export async function main(argv: string[]): Promise<number> {
  let xid: string | undefined, fill: string | undefined, interval: string | undefined, bias: string | undefined;
  let dir: string | undefined, missingOk = false, save = false;
  const ignored: string[] = [];
  const words = new OptionLexer(argv);
  for (let a = words.next(); a !== undefined; a = words.next()) {
    if (a === "-h" || a === "--help") {
      writeOut(HELP);
      return 0;
    }
    if (a === "--xid" || a === "-c") xid = words.value();
    else if (a === "--fill-rate") fill = words.value();
    else if (a === "--interval") interval = words.value();
    else if (a === "--prio-bias" || a === "--priority-bias") bias = words.value();
    else if (a === "--dir") dir = words.value();
    else if (a === "--missingok") missingOk = true;
    else if (a === "--save") save = true;
    else if (NOT_APPLIED.has(a)) ignored.push(`${a} ${words.value()}`);
    else if (NOT_APPLIED_FLAGS.has(a)) ignored.push(a);
    else if (a === "--") throw new UsageError("'vsched ... -- CMD' is not supported: CPU settings apply to a running guest (--xid).");
    else throw new UsageError(`unknown option '${a}'. See '${PROG} --help'.`);
  }
  if (xid === undefined) throw new UsageError("no context given; use --xid N or --xid NAME.");
  if (dir !== undefined) {
    if (!existsSync(dir)) {
      if (!missingOk) throw new NotFoundError(`--dir: ${dir} does not exist.`);
    } else {
      const read = (f: string) => (existsSync(`${dir}/${f}`) ? readFileSync(`${dir}/${f}`, "utf8").trim() : undefined);
      fill ??= read("fill-rate");
      interval ??= read("interval");
      bias ??= read("priority-bias");
      for (const f of ["tokens", "tokens-min", "tokens-max", "fill-rate2", "interval2", "idle-time"]) if (existsSync(`${dir}/${f}`)) ignored.push(`${dir}/${f}`);
    }
  }
  if ((fill === undefined) !== (interval === undefined)) throw new UsageError("--fill-rate and --interval go together: the cap is their ratio.");
  for (const x of ignored) warn(PROG, `${x}: not applied (no cgroup equivalent).`);

  const env = makeEnv();
  const t = liveTarget(env, xid);
  const cpus = availableParallelism();
  if (fill === undefined && bias === undefined) {
    const cap = readCpuCap(t, cpus);
    const shares = readLimits(t).find((r) => r.name === "cpu-shares");
    writeOut(`cpu-cap: ${cap === undefined ? "none" : `${+cap.toFixed(4)} of each of ${cpus} CPUs`}\ncpu-shares: ${shares?.hard ?? "?"}\n`);
    return 0;
  }
  const saved: string[] = [];
  if (fill !== undefined) {
    if (fill === "inf" && interval === "inf") saved.push(...setCpuCap(env, t, undefined, cpus, save));
    else {
      const num = (v: string, opt: string) => {
        if (!/^\d+$/.test(v)) throw new UsageError(`${opt}: '${v}' is not a whole number.`);
        return Number(v);
      };
      const fr = num(fill, "--fill-rate");
      const iv = num(interval!, "--interval");
      let share;
      try {
        share = cpuShareOf(fr, iv, "--fill-rate/--interval");
      } catch (e) {
        if (e instanceof SchedError) throw new UsageError(e.message);
        throw e;
      }
      saved.push(...setCpuCap(env, t, { share, fillRate: fr, interval: iv }, cpus, save));
    }
  }
  if (bias !== undefined) {
    if (!/^-?\d+$/.test(bias) || Number(bias) < -20 || Number(bias) > 19) throw new UsageError(`--prio-bias: '${bias}' is not a number from -20 to 19.`);
    saved.push(...setLimits(env, t, [{ res: resourceInfo("cpu-shares")!, which: "both", value: biasToShares(Number(bias)) }], save).saved);
  }
  for (const f of saved) writeOut(`saved ${f}\n`);
  return 0;
}

if (import.meta.main) runMain(PROG, main);

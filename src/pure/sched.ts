// util-vserver's token-bucket CPU scheduler (sched/, vsched; reference §1.2, §2.2) on cgroup CPU
// control. A guest's bucket gained fill-rate tokens (one per timer tick of CPU) every interval
// ticks, on each CPU: a hard cap of fill-rate/interval of every CPU, which is cgroup's CPU quota
// (cpu.max, or cfs_quota_us/cfs_period_us on a v1 host) of that share of all CPUs per period.
// priority-bias became a CPU weight (guest-config.ts). The bucket's size (tokens, tokens-min,
// tokens-max) and the idle-time second rate (fill-rate2, interval2) have no equivalent.

export const CPU_PERIOD_US = 100_000;

export class SchedError extends Error {}

/** The share of each CPU that fill-rate/interval allows, 0 < share <= 1. */
export function cpuShareOf(fillRate: number, interval: number, what = "fill-rate/interval"): number {
  if (!Number.isInteger(fillRate) || !Number.isInteger(interval) || fillRate < 1 || interval < 1) {
    throw new SchedError(`${what}: both must be whole numbers from 1 (got ${fillRate}/${interval}).`);
  }
  if (fillRate > interval) throw new SchedError(`${what}: ${fillRate}/${interval} is more than all of a CPU; a guest is capped at most at every CPU (fill-rate = interval).`);
  return fillRate / interval;
}

/** The quota per CPU_PERIOD_US for a share of each of `cpus` CPUs (at least the kernel's 1 ms). */
export function cpuQuotaUs(share: number, cpus: number): number {
  return Math.max(1000, Math.round(CPU_PERIOD_US * share * Math.max(1, cpus)));
}

/** The bias (-20..19, as sched/priority-bias) as a CPU weight in shares, as the config maps it. */
export function biasToShares(bias: number): number {
  const b = Math.max(-20, Math.min(19, bias));
  return Math.round(1024 * Math.pow(1.25, -b));
}

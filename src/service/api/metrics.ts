// /metrics: per-guest gauges from one look at the host (the same numbers as vserver-stat --json)
// and counters the service keeps from the journal it follows (starts, operations and their
// latencies, OOM kills) since it started, as Prometheus counters may.

import type { GuestStatJson } from "../../control/host-view";
import type { DiskUsage } from "../../control/disk-limits";
import type { JournalEntry } from "../../drivers/journal-reader";
import type { Scope } from "../../pure/api/scope";
import { formatFamilies, histogramSamples, newHistogram, observe, type Family, type Histogram, type Sample } from "../../pure/format/prometheus";

export interface GuestMetricsInput {
  guests: Array<{ name: string; running: boolean; context?: number; disk?: DiskUsage }>;
  stats: GuestStatJson[];
}

export class JournalCounters {
  readonly starts = new Map<string, number>();
  readonly ops = new Map<string, number>();
  readonly latency = new Map<string, Histogram>();
  readonly events = new Map<string, number>();

  add(evs: JournalEntry[]): void {
    for (const e of evs) {
      const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
      bump(this.events, JSON.stringify([e.op, e.guest ?? ""]));
      if (e.op === "start" && e.ok && e.guest) bump(this.starts, e.guest);
      if (typeof e.ms === "number") {
        bump(this.ops, JSON.stringify([e.op, e.ok ? "ok" : "error"]));
        let h = this.latency.get(e.op);
        if (!h) this.latency.set(e.op, (h = newHistogram()));
        observe(h, e.ms / 1000);
      }
    }
  }
}

/**
 * The text of a scrape. `input` holds the guests the caller may see; of the journal's counters
 * it gets those of its guests, and none of the host-wide ones (every guest's operations together)
 * when its scope is limited.
 */
export function metricsText(input: GuestMetricsInput, counters: JournalCounters, scope: Scope): string {
  const byCtx = new Map(input.stats.map((s) => [s.context, s]));
  const gauge = (name: string, help: string, pick: (s: GuestStatJson) => number | null | undefined): Family => {
    const samples: Sample[] = [];
    for (const g of input.guests) {
      const s = g.running && g.context !== undefined ? byCtx.get(g.context) : undefined;
      const v = s ? pick(s) : undefined;
      if (v !== undefined && v !== null) samples.push({ labels: { guest: g.name, context: String(g.context) }, value: v });
    }
    return { name, help, type: name.endsWith("_total") ? "counter" : "gauge", samples };
  };
  // Running or not: a stopped guest's root still holds its files.
  const disk = (name: string, help: string, pick: (d: DiskUsage) => number | undefined): Family => {
    const samples: Sample[] = [];
    for (const g of input.guests) {
      const v = g.disk ? pick(g.disk) : undefined;
      if (v !== undefined) samples.push({ labels: { guest: g.name, ...(g.context !== undefined ? { context: String(g.context) } : {}) }, value: v });
    }
    return { name, help, type: "gauge", samples };
  };
  const pairs = (m: Map<string, number>, keys: [string, string]): Sample[] =>
    [...m].map(([k, value]) => {
      const [a, b] = JSON.parse(k) as [string, string];
      return { labels: { [keys[0]]: a, [keys[1]]: b }, value };
    });
  const hostWide = (f: Family): Family => (scope.limited ? { ...f, samples: [] } : f);
  const families: Family[] = [
    {
      name: "vserver_guest_up", help: "1 when the guest runs, 0 when it is stopped", type: "gauge",
      samples: input.guests.map((g) => ({ labels: { guest: g.name }, value: g.running ? 1 : 0 })),
    },
    gauge("vserver_guest_cpu_seconds_total", "CPU time of the guest's processes, living and dead (its cgroup)", (s) => s.cpuSeconds),
    gauge("vserver_guest_memory_bytes", "Memory the guest's cgroup uses", (s) => s.memoryBytes),
    gauge("vserver_guest_memory_limit_bytes", "The guest's memory limit (absent: none)", (s) => s.memoryLimitBytes),
    gauge("vserver_guest_processes", "Processes in the guest", (s) => s.pids ?? s.processes),
    gauge("vserver_guest_processes_limit", "The guest's process limit (absent: none)", (s) => s.pidsLimit),
    gauge("vserver_guest_network_receive_bytes_total", "Bytes received on the guest's own links (absent while it shares the host's stack)", (s) => s.netRxBytes),
    gauge("vserver_guest_network_transmit_bytes_total", "Bytes sent on the guest's own links (absent while it shares the host's stack)", (s) => s.netTxBytes),
    disk("vserver_guest_disk_used_bytes", "Bytes only the guest's root holds: its btrfs qgroup's exclusive bytes at the last commit (absent where quotas are off)", (d) => d.usedBytes),
    disk("vserver_guest_disk_limit_bytes", "The guest's disk limit: its root's qgroup limit on exclusive bytes (absent: none)", (d) => d.limitBytes),
    gauge("vserver_guest_uptime_seconds", "Seconds since the guest's first process started", (s) => s.uptimeSeconds),
    {
      name: "vserver_guest_starts_total", help: "Successful starts of each guest since the service started", type: "counter",
      samples: scope.filter([...counters.starts], ([guest]) => guest).map(([guest, value]) => ({ labels: { guest }, value })),
    },
    hostWide({ name: "vserver_operations_total", help: "Operations of the control plane since the service started, by outcome", type: "counter", samples: pairs(counters.ops, ["op", "outcome"]) }),
    {
      name: "vserver_events_total", help: "Journal events since the service started, by operation or state change and guest", type: "counter",
      samples: scope.filter(pairs(counters.events, ["op", "guest"]), (s) => s.labels?.guest),
    },
    hostWide({
      name: "vserver_operation_duration_seconds", help: "How long the control plane's operations took", type: "histogram",
      samples: [...counters.latency].flatMap(([op, h]) => histogramSamples(h, { op })),
    }),
  ];
  return formatFamilies(families);
}

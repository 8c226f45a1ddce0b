// Prometheus' text exposition format (version 0.0.4): metric families with HELP and TYPE lines,
// label values escaped. Pure: the numbers come in.

export interface Sample {
  labels?: Record<string, string>;
  value: number;
  /** Suffix of the family name for histogram parts: _bucket, _sum, _count. */
  suffix?: string;
}

export interface Family {
  name: string;
  help: string;
  type: "gauge" | "counter" | "histogram";
  samples: Sample[];
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

export function formatFamilies(families: Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    out.push(`# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels ?? {});
      const l = labels.length ? `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}` : "";
      out.push(`${f.name}${s.suffix ?? ""}${l} ${formatValue(s.value)}`);
    }
  }
  return out.join("\n") + "\n";
}

/** Operation latencies in seconds: from a quick exec to a debootstrap build. */
export const LATENCY_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export interface Histogram {
  counts: number[]; // one per bucket, not cumulative
  sum: number;
  count: number;
}

export function newHistogram(): Histogram {
  return { counts: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
}

export function observe(h: Histogram, seconds: number): void {
  const i = LATENCY_BUCKETS.findIndex((b) => seconds <= b);
  if (i >= 0) h.counts[i]!++;
  h.sum += seconds;
  h.count++;
}

/** A histogram's samples (cumulative buckets, +Inf, sum, count) with the given labels. */
export function histogramSamples(h: Histogram, labels: Record<string, string>): Sample[] {
  const out: Sample[] = [];
  let cum = 0;
  LATENCY_BUCKETS.forEach((b, i) => {
    cum += h.counts[i]!;
    out.push({ suffix: "_bucket", labels: { ...labels, le: String(b) }, value: cum });
  });
  out.push({ suffix: "_bucket", labels: { ...labels, le: "+Inf" }, value: h.count });
  out.push({ suffix: "_sum", labels, value: Math.round(h.sum * 1e6) / 1e6 });
  out.push({ suffix: "_count", labels, value: h.count });
  return out;
}

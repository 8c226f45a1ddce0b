// Prometheus text format, parsed by Prometheus' own Python client library (Debian's
// python3-prometheus-client, hence /usr/bin/python3): what a real scraper would accept.

const PARSE = `
import sys, json
from prometheus_client.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        out.append({"family": fam.name, "type": fam.type, "name": s.name, "labels": s.labels, "value": s.value})
print(json.dumps(out))
`;

export interface PromSample {
  family: string;
  type: string;
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parsePrometheus(text: string): PromSample[] {
  const r = Bun.spawnSync(["/usr/bin/python3", "-c", PARSE], { stdin: Buffer.from(text) });
  if (r.exitCode !== 0) throw new Error(`the Prometheus parser refused the metrics: ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString());
}

// /metrics: Prometheus text format, parsed by Prometheus' own Python client library
// (tests/helpers/prometheus.ts), with the numbers checked against the guests' cgroups and the
// operations the test ran.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { TestHost, busyboxGuest } from "../helpers/host";
import { ApiClient } from "../helpers/api";
import { parsePrometheus } from "../helpers/prometheus";

const h = new TestHost("apimet");
const api = new ApiClient(h);

beforeAll(async () => {
  await api.start();
  busyboxGuest(h, "mg1", { "rlimits/nproc": "123\n" });
  busyboxGuest(h, "mg2");
});
afterAll(async () => {
  await api.stop();
  h.cleanup();
});

const parse = parsePrometheus;

test("per-guest usage and limits, starts and latencies, in a form Prometheus parses", async () => {
  h.ok("mg1", "start");
  h.ok("mg1", "exec", "sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done");
  const began = performance.now();
  const r = await api.fetch("/metrics");
  const took = performance.now() - began;
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = parse(await r.text());
  const one = (name: string, labels: Record<string, string>) => samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

  expect(one("vserver_guest_up", { guest: "mg1" })?.value).toBe(1);
  expect(one("vserver_guest_up", { guest: "mg2" })?.value).toBe(0);
  const ctx = JSON.parse(h.vserver("mg1", "status", "--json").stdout).context;
  expect(one("vserver_guest_up", { guest: "mg1" })).toBeTruthy();
  expect(one("vserver_guest_cpu_seconds_total", { guest: "mg1", context: String(ctx) })!.value).toBeGreaterThan(0);
  expect(one("vserver_guest_memory_bytes", { guest: "mg1" })!.value).toBeGreaterThan(0);
  expect(one("vserver_guest_processes", { guest: "mg1" })!.value).toBeGreaterThanOrEqual(1);
  expect(one("vserver_guest_processes_limit", { guest: "mg1" })!.value).toBe(123);
  // The memory limit is what the guest's cgroup says (vserver-stat --json reads it).
  const stat = JSON.parse(h.run("vserver-stat", ["--json"]).stdout).find((s: any) => s.context === ctx);
  expect(one("vserver_guest_memory_limit_bytes", { guest: "mg1" })!.value).toBe(stat.memoryLimitBytes);
  // A stopped guest has no usage samples.
  expect(one("vserver_guest_memory_bytes", { guest: "mg2" })).toBeUndefined();
  // Roots that are not btrfs subvolumes have no disk numbers: absent, not zero (api-disk.test.ts has them).
  expect(samples.filter((s) => s.family.startsWith("vserver_guest_disk_"))).toEqual([]);
  // Counters from the journal since the service started.
  expect(one("vserver_guest_starts_total", { guest: "mg1" })!.value).toBe(1);
  expect(samples.find((s) => s.family === "vserver_guest_starts" && s.type === "counter")).toBeTruthy();
  expect(one("vserver_operations_total", { op: "start", outcome: "ok" })!.value).toBeGreaterThanOrEqual(1);
  const startCount = one("vserver_operation_duration_seconds_count", { op: "start" })!;
  expect(startCount.value).toBeGreaterThanOrEqual(1);
  expect(one("vserver_operation_duration_seconds_bucket", { op: "start", le: "+Inf" })!.value).toBe(startCount.value);
  expect(one("vserver_operation_duration_seconds_sum", { op: "start" })!.value).toBeGreaterThan(0);
  expect(took).toBeLessThan(1000);
});

test("a second start counts, a stop sets the guest down", async () => {
  h.ok("mg1", "stop");
  h.ok("mg1", "start");
  h.ok("mg2", "start");
  await Bun.sleep(700); // the service follows the journal
  const samples = parse(await (await api.fetch("/metrics")).text());
  const v = (name: string, guest: string) => samples.find((s) => s.name === name && s.labels.guest === guest)?.value;
  expect(v("vserver_guest_starts_total", "mg1")).toBe(2);
  expect(v("vserver_guest_starts_total", "mg2")).toBe(1);
  expect(v("vserver_guest_up", "mg2")).toBe(1);
});

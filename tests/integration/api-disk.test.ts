// Disk use and limits in the API and /metrics, on a loop-backed btrfs the test makes and removes:
// a guest with a dlimits/ limit shows its root qgroup's exclusive bytes and its limit, the use
// grows when the guest writes, a limit changed live shows at once, a guest on btrfs without a
// limit has no limit series, and a guest whose root is not on btrfs has no disk numbers at all
// (absent, not zero). The numbers are checked against `btrfs qgroup show` from outside.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { TestHost, busyboxGuest } from "../helpers/host";
import { LoopPool } from "../helpers/loop-pool";
import { ApiClient } from "../helpers/api";
import { parsePrometheus, type PromSample } from "../helpers/prometheus";

const h = new TestHost("apidisk");
const api = new ApiClient(h);
const BASE = `${h.root}/vservers`;
const PLAIN = `${h.root}/plain-roots`;
const MiB = 1048576;
let pool: LoopPool | undefined;

beforeAll(async () => {
  pool = new LoopPool(BASE, "btrfs");
  await api.start();
  busyboxGuest(h, "dq1", { "dlimits/root/directory": "/\n", "dlimits/root/space_total": "20480\n" });
  busyboxGuest(h, "dq2");
  mkdirSync(PLAIN, { recursive: true });
  busyboxGuest(h, "dp1", {}, ["--rootdir", PLAIN]);
});

afterAll(async () => {
  try {
    await api.stop();
    h.removeGuests();
  } finally {
    pool?.remove();
    h.cleanup();
  }
});

/** The guest root's exclusive bytes as btrfs itself reports them from outside, after a commit. */
function exclusiveOutside(name: string): number {
  const id = Bun.spawnSync(["btrfs", "inspect-internal", "rootid", h.vdir(name)], { stdout: "pipe" }).stdout.toString().trim();
  const out = Bun.spawnSync(["btrfs", "qgroup", "show", "-re", "--raw", "--sync", h.vdir(name)], { stdout: "pipe" }).stdout.toString();
  const f = out.split("\n").map((l) => l.trim().split(/\s+/)).find((f) => f[0] === `0/${id}`);
  if (!f) throw new Error(`btrfs lists no qgroup 0/${id} for ${name}`);
  return Number(f[2]);
}

/** A transaction commit: what the qgroups count now is what the kernel's files say. */
function commit(): void {
  Bun.spawnSync(["btrfs", "filesystem", "sync", BASE]);
}

async function scrape(): Promise<PromSample[]> {
  const r = await api.fetch("/metrics");
  expect(r.status).toBe(200);
  return parsePrometheus(await r.text());
}

const value = (samples: PromSample[], name: string, guest: string) => samples.find((s) => s.name === name && s.labels.guest === guest)?.value;

test("a guest with a disk limit has its use and limit in /metrics and its status; a guest not on btrfs has neither", async () => {
  h.ok("dq1", "start"); // turns quotas on for the pool and sets the limit
  commit();
  const samples = await scrape();
  const ctx = JSON.parse(h.vserver("dq1", "status", "--json").stdout).context;
  const used = samples.find((s) => s.name === "vserver_guest_disk_used_bytes" && s.labels.guest === "dq1")!;
  expect(used.labels.context).toBe(String(ctx));
  expect(used.value).toBe(exclusiveOutside("dq1"));
  expect(used.value).toBeGreaterThan(0);
  expect(value(samples, "vserver_guest_disk_limit_bytes", "dq1")).toBe(20480 * 1024);
  expect(samples.find((s) => s.family === "vserver_guest_disk_used_bytes")!.type).toBe("gauge");
  // On the same file system without a limit: the use, and no limit series (not a zero).
  expect(value(samples, "vserver_guest_disk_used_bytes", "dq2")).toBe(exclusiveOutside("dq2"));
  expect(value(samples, "vserver_guest_disk_limit_bytes", "dq2")).toBeUndefined();
  // Not on btrfs: nothing counts it, so no series at all.
  expect(value(samples, "vserver_guest_up", "dp1")).toBe(0);
  expect(value(samples, "vserver_guest_disk_used_bytes", "dp1")).toBeUndefined();
  expect(value(samples, "vserver_guest_disk_limit_bytes", "dp1")).toBeUndefined();

  const one = await api.call("GET", "/v1/guests/dq1");
  expect(one.status).toBe(200);
  expect(one.json.result.disk).toEqual({ usedBytes: used.value, limitBytes: 20480 * 1024 });
  const plain = await api.call("GET", "/v1/guests/dp1");
  expect(plain.status).toBe(200);
  expect(plain.json.result.disk).toBeUndefined();
  const all = (await api.call("GET", "/v1/guests")).json.result as Array<{ name: string; disk?: { usedBytes: number; limitBytes?: number } }>;
  expect(all.find((g) => g.name === "dq1")!.disk!.limitBytes).toBe(20480 * 1024);
  expect(all.find((g) => g.name === "dq2")!.disk).toEqual({ usedBytes: exclusiveOutside("dq2") });
  expect(all.find((g) => g.name === "dp1")!.disk).toBeUndefined();
});

test("the use grows when the guest writes, and a limit changed live shows at once", async () => {
  commit();
  const before = value(await scrape(), "vserver_guest_disk_used_bytes", "dq1")!;
  const dd = h.inGuest("dq1", "dd", "if=/dev/urandom", "of=/root/data", "bs=1M", "count=6");
  expect(dd.code).toBe(0);
  commit();
  let samples = await scrape();
  const after = value(samples, "vserver_guest_disk_used_bytes", "dq1")!;
  expect(after - before).toBeGreaterThanOrEqual(6 * MiB);
  expect(after).toBe(exclusiveOutside("dq1"));

  expect(h.run("vdlimit", ["--xid", "dq1", "--set", "space_total=30720", BASE]).code).toBe(0);
  samples = await scrape();
  expect(value(samples, "vserver_guest_disk_limit_bytes", "dq1")).toBe(30720 * 1024);
  expect(h.run("vdlimit", ["--xid", "dq1", "--remove", BASE]).code).toBe(0);
  samples = await scrape();
  expect(value(samples, "vserver_guest_disk_used_bytes", "dq1")).toBe(after);
  expect(value(samples, "vserver_guest_disk_limit_bytes", "dq1")).toBeUndefined();
  expect((await api.call("GET", "/v1/guests/dq1")).json.result.disk).toEqual({ usedBytes: after });
});

test("a stopped guest's root still holds its files: its use stays in /metrics", async () => {
  h.ok("dq1", "stop");
  commit();
  const samples = await scrape();
  expect(value(samples, "vserver_guest_up", "dq1")).toBe(0);
  expect(value(samples, "vserver_guest_disk_used_bytes", "dq1")).toBe(exclusiveOutside("dq1"));
});

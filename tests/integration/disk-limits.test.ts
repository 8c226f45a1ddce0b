// Disk limits (dlimits/, vdlimit) as btrfs qgroups, on a loop-backed btrfs the test makes and
// removes (docs/unification.md, "Disk limits"): build makes guest roots subvolumes, start applies
// dlimits/, a write beyond the limit fails inside the guest and is charged to it outside, vdlimit
// changes the limit live, delete leaves no qgroup, and a guest cannot leave its limit through
// btrfs subvolumes, snapshots or quota calls.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { TestHost, busyboxGuest, compileStatic, REPO } from "../helpers/host";
import { LoopPool } from "../helpers/loop-pool";

const h = new TestHost("dlimit");
const BASE = `${h.root}/vservers`;
const pool = new LoopPool(BASE, "btrfs");
const PROBE = `${h.root}.btrfs-quota`;
const MiB = 1048576;

/** Subvolumes a guest made itself (only possible without the seccomp rule): delete cannot remove them. */
function removeNestedSubvolumes(): void {
  const r = Bun.spawnSync(["btrfs", "subvolume", "list", BASE], { stdout: "pipe" });
  const paths = r.stdout.toString().split("\n").map((l) => / path (.+)$/.exec(l)?.[1]).filter((p): p is string => !!p && p.includes("/"));
  for (const p of paths.sort((a, b) => b.length - a.length)) Bun.spawnSync(["btrfs", "subvolume", "delete", `${BASE}/${p}`], { stdout: "ignore", stderr: "ignore" });
}

afterAll(() => {
  try {
    h.removeGuests(removeNestedSubvolumes);
  } finally {
    pool.remove();
    Bun.spawnSync(["rm", "-f", PROBE]);
    h.cleanup();
  }
});

beforeAll(() => {
  compileStatic(`${REPO}/tests/escape/btrfs-quota.c`, PROBE);
});

function run(t: string, args: string[]) {
  const r = h.run(t, args);
  if (r.code !== 0) throw new Error(`${t} ${args.join(" ")} exited ${r.code}: ${r.stderr || r.stdout}`);
  return r;
}

/** The guest root's qgroup as btrfs itself reports it, from outside. */
function qgroup(root: string): { id: string; exclusive: number; maxExclusive: string } | undefined {
  const id = Bun.spawnSync(["btrfs", "inspect-internal", "rootid", root], { stdout: "pipe" }).stdout.toString().trim();
  const out = Bun.spawnSync(["btrfs", "qgroup", "show", "-re", "--raw", "--sync", BASE], { stdout: "pipe" }).stdout.toString();
  const f = out.split("\n").map((l) => l.trim().split(/\s+/)).find((f) => f[0] === `0/${id}`);
  return f ? { id: f[0]!, exclusive: Number(f[2]), maxExclusive: f[4]! } : undefined;
}

function qgroupIds(): string[] {
  return Bun.spawnSync(["btrfs", "qgroup", "show", "--raw", BASE], { stdout: "pipe" }).stdout.toString().split("\n").map((l) => l.trim().split(/\s+/)[0]!).filter((s) => /^0\/\d+$/.test(s));
}

const LIMIT = { "dlimits/root/directory": "/\n", "dlimits/root/space_total": "10240\n", "dlimits/root/inodes_total": "1000\n" };

describe("btrfs qgroups as disk limits", () => {
  test("build makes the guest root a subvolume of its own, and leaves no temporary name", () => {
    busyboxGuest(h, "q1", LIMIT);
    expect(statSync(h.vdir("q1")).ino).toBe(256);
    expect(readdirSync(BASE).filter((f) => f.startsWith("."))).toEqual([]);
  });

  test("start applies dlimits/: a write beyond it fails with EDQUOT inside, and outside the guest's qgroup is charged", () => {
    const s = h.vserver("q1", "start");
    expect(s.code).toBe(0);
    expect(s.stderr).toMatch(/^vserver: warning: btrfs quotas were turned on for btrfs on \S+, mounted at \S+, for the disk limits of guest 'q1'; they stay on/m);
    expect(s.stderr).toMatch(/^vserver: warning: \S+\/dlimits\/root\/inodes_total: btrfs counts no inodes per guest, so guest 'q1' runs without an inode limit\.$/m);
    const dd = h.inGuest("q1", "dd", "if=/dev/zero", "of=/root/big", "bs=1M", "count=20");
    expect(dd.code).not.toBe(0);
    expect(dd.stderr).toContain("Disk quota exceeded");
    const q = qgroup(h.vdir("q1"))!;
    expect(q.maxExclusive).toBe(String(10240 * 1024));
    expect(q.exclusive).toBeGreaterThan(9 * MiB);
    // btrfs enforces on reservations: what it counts may pass the limit by a little (metadata).
    expect(q.exclusive).toBeLessThanOrEqual(12 * MiB);
    const v = run("vdlimit", ["--xid", "q1", BASE]).stdout;
    expect(v).toMatch(/^space_used=(\d+)\nspace_total=10240\n$/);
    expect(Number(/space_used=(\d+)/.exec(v)![1])).toBeGreaterThan(9 * 1024);
  });

  test("a clone is a subvolume too, and the files it shares with its source by reflink are not charged to it", () => {
    run("vserver", ["c1", "build", "-m", "clone", "--quiet", "--", "-s", "q1"]);
    expect(statSync(h.vdir("c1")).ino).toBe(256);
    const q = qgroup(h.vdir("c1"))!;
    const referenced = Number(Bun.spawnSync(["btrfs", "qgroup", "show", "-r", "--raw", "--sync", BASE], { stdout: "pipe" }).stdout.toString().split("\n").map((l) => l.trim().split(/\s+/)).find((f) => f[0] === q.id)![1]);
    // q1's root holds the ~10 MiB its write left before the limit stopped it.
    expect(referenced).toBeGreaterThan(9 * MiB);
    expect(q.exclusive).toBeLessThan(referenced / 4);
    run("vserver", ["c1", "delete", "--force"]);
  });

  test("vdlimit --remove lifts the limit live and --set puts one back, named by context number", () => {
    const ctx = readFileSync(`${h.cfg("q1")}/context`, "utf8").trim();
    run("vdlimit", ["--xid", ctx, "--remove", h.vdir("q1")]);
    expect(qgroup(h.vdir("q1"))!.maxExclusive).toBe("none");
    expect(run("vdlimit", ["--xid", "q1", BASE]).stdout).toMatch(/\nspace_total=inf\n$/);
    const dd = h.inGuest("q1", "dd", "if=/dev/zero", "of=/root/big", "bs=1M", "count=20");
    expect(dd.code).toBe(0);
    expect(qgroup(h.vdir("q1"))!.exclusive).toBeGreaterThan(20 * MiB);
    run("vdlimit", ["--xid", "q1", "--set", "space_total=25600", BASE]);
    const more = h.inGuest("q1", "dd", "if=/dev/zero", "of=/root/more", "bs=1M", "count=20");
    expect(more.code).not.toBe(0);
    expect(more.stderr).toContain("Disk quota exceeded");
    expect(qgroup(h.vdir("q1"))!.exclusive).toBeLessThanOrEqual(27 * MiB);
  });

  test("vdlimit refuses what btrfs cannot do, and a directory that does not hold the guest, in one sentence", () => {
    const i = h.run("vdlimit", ["--xid", "q1", "--set", "inodes_total=10", BASE]);
    expect(i.code).toBe(2);
    expect(i.stderr).toBe("vdlimit: --set inodes_total has no meaning on btrfs, which counts no inodes and reserves no space per guest; only space_total can be set.\n");
    const d = h.run("vdlimit", ["--xid", "q1", "--set", "space_total=1", "/proc"]);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/^vdlimit: \/proc does not hold the root of guest 'q1' \(\S+\)\.\n$/);
    expect(qgroup(h.vdir("q1"))!.maxExclusive).toBe(String(25600 * 1024));
  });

  test("delete removes the subvolume and leaves no qgroup behind", () => {
    const id = qgroup(h.vdir("q1"))!.id;
    run("vserver", ["q1", "stop"]);
    run("vserver", ["q1", "delete", "--force"]);
    expect(existsSync(h.vdir("q1"))).toBe(false);
    expect(qgroupIds()).not.toContain(id);
  });

  test("a bad dlimits/ file stops the start in one sentence naming it, and nothing runs", () => {
    busyboxGuest(h, "q3", { ...LIMIT, "dlimits/root/space_total": "10M\n" });
    const r = h.vserver("q3", "start");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`vserver: ${h.cfg("q3")}/dlimits/root/space_total: '10M' is not a whole number.\n`);
    expect(h.vserver("q3", "status").code).toBe(3);
    run("vserver", ["q3", "delete", "--force"]);
  });

  test("a root that is not a subvolume: start says how to convert it, and that way works", () => {
    busyboxGuest(h, "q4", LIMIT);
    const root = h.vdir("q4");
    // As a guest built before roots were subvolumes.
    expect(Bun.spawnSync(["sh", "-c", 'mv "$1" "$1.sv" && mkdir "$1" && cp -a "$1.sv/." "$1/" && rm -rf "$1.sv"', "sh", root]).exitCode).toBe(0);
    expect(statSync(root).ino).not.toBe(256);
    const s = h.vserver("q4", "start");
    expect(s.code).toBe(0);
    const m = /^vserver: warning: \S+\/dlimits: disk limits are not available for this guest, because its root \S+ is a plain directory, not a btrfs subvolume .*; to convert it, stop the guest and run '([^']+)'; guest 'q4' runs without them\.$/m.exec(s.stderr);
    expect(m).not.toBeNull();
    run("vserver", ["q4", "stop"]);
    expect(Bun.spawnSync(["sh", "-c", m![1]!]).exitCode).toBe(0);
    expect(statSync(root).ino).toBe(256);
    const again = h.vserver("q4", "start");
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain("not available");
    expect(qgroup(root)!.maxExclusive).toBe(String(10240 * 1024));
    run("vserver", ["q4", "stop"]);
    run("vserver", ["q4", "delete", "--force"]);
  });
});

describe("a guest cannot leave its limit", () => {
  const ATTEMPTS = ["subvol_create", "subvol_create_v2", "subvol_create_high_bits", "snap_create", "snap_create_v2", "snap_destroy", "quota_disable", "qgroup_limit"];

  function probe(name: string): Record<string, string> {
    copyFileSync(PROBE, `${h.vdir(name)}/btrfs-quota`);
    chmodSync(`${h.vdir(name)}/btrfs-quota`, 0o755);
    run("vserver", [name, "start"]);
    const r = run("vserver", [name, "exec", "/bin/sh", "-c", "mkdir -p /root/w && /btrfs-quota /root/w"]);
    return Object.fromEntries(r.stdout.trim().split("\n").map((l) => l.split(": ") as [string, string]));
  }

  test("no subvolume, snapshot or quota call gets through, and outside no new subvolume or qgroup appears", () => {
    busyboxGuest(h, "esc", LIMIT);
    const before = qgroupIds();
    const said = probe("esc");
    expect(Object.keys(said).sort()).toEqual([...ATTEMPTS].sort());
    for (const a of ATTEMPTS) expect(`${a}: ${said[a]}`).toBe(`${a}: Operation not permitted`);
    const list = Bun.spawnSync(["btrfs", "subvolume", "list", BASE], { stdout: "pipe" }).stdout.toString();
    expect(list).not.toMatch(/sub-|snap-/);
    expect(qgroupIds().filter((q) => !before.includes(q))).toEqual([]);
    expect(qgroup(h.vdir("esc"))!.maxExclusive).toBe(String(10240 * 1024));
  });

  test("without the seccomp rule the same guest makes a subvolume outside its limit (the rule is what stops it)", () => {
    busyboxGuest(h, "weak", { ...LIMIT, "security/seccomp": "unconfined\n" });
    const said = probe("weak");
    expect(said.subvol_create_v2).toBe("ok");
    expect(said.subvol_create_high_bits).toBe("ok");
    // The new subvolume has a qgroup of its own, without the guest's limit.
    const nested = `${h.vdir("weak")}/root/w/sub-v2`;
    expect(statSync(nested).ino).toBe(256);
    expect(qgroup(nested)!.maxExclusive).toBe("none");
  });
});

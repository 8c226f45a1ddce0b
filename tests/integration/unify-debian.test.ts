// A real Debian guest unified end to end, on a loop-backed XFS the test makes and removes:
// hashify, start with its daemon, a package reinstalled inside (dpkg replaces its files, as an
// upgrade does), dpkg's own verification, re-hashify, a clone, and the disk it all takes. The
// packages come from the debootstrap cache of tests/helpers/debian.ts.

import { afterAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { BIN, TestHost } from "../helpers/host";
import { DEBIAN_PACKAGES, debianGuest } from "../helpers/debian";
import { XfsPool } from "../helpers/xfs-pool";

const h = new TestHost("unify-deb");
const pool = new XfsPool(`${h.root}/vservers`, 1024);

afterAll(() => {
  try {
    for (const n of ["deb", "deb2"]) h.run("vserver", ["--silent", n, "delete", "--force"], { timeout: 120 });
    h.run("vserverd", ["--stop"], { timeout: 30 });
  } finally {
    pool.remove();
    h.cleanup();
  }
});

function ok(...args: string[]): string {
  const r = h.run("vserver", args, { timeout: 600 });
  if (r.code !== 0) throw new Error(`vserver ${args.join(" ")} exited ${r.code}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

function dfUsedMiB(): number {
  const r = Bun.spawnSync(["df", "-B1M", "--output=used", pool.mountPoint], { stdout: "pipe" });
  return Number(r.stdout.toString().split("\n")[1]!.trim());
}

function comms(name: string): string[] {
  return h.inGuest(name, "/bin/sh", "-c", "for p in /proc/[0-9]*; do cat $p/comm 2>/dev/null; done").stdout.split("\n");
}

test("a Debian guest unified: starts its daemon, takes a package reinstall, verifies, re-hashifies, clones", () => {
  debianGuest(h, "deb", { include: ["cron"], buildArgs: ["--quiet"] });
  const plainMiB = dfUsedMiB();

  const t0 = performance.now();
  const out = ok("deb", "hashify");
  const hashifyMs = performance.now() - t0;
  expect(out).toContain("storage: xfs");
  expect(readdirSync(h.vdir("deb"))).toEqual([]);

  ok("deb", "start");
  expect(comms("deb")).toContain("cron");
  expect(h.inGuest("deb", "dpkg", "--verify").stdout).toBe("");

  // dpkg writes every file of the package anew and renames it over the old one, as an upgrade does.
  const deb = readdirSync(DEBIAN_PACKAGES).find((f) => /^cron_.*\.deb$/.test(f))!;
  const r = Bun.spawnSync([`${BIN}/vserver`, "deb", "exec", "sh", "-c", "cat > /tmp/cron.deb && dpkg -i /tmp/cron.deb >/dev/null && rm /tmp/cron.deb"], {
    env: h.env, stdin: Bun.file(`${DEBIAN_PACKAGES}/${deb}`), stdout: "pipe", stderr: "pipe", timeout: 300_000,
  });
  if (r.exitCode !== 0) throw new Error(`dpkg -i in the guest failed: ${r.stderr.toString()}`);
  expect(h.inGuest("deb", "dpkg", "--verify").stdout).toBe("");
  ok("deb", "stop");
  const own = JSON.parse(h.run("vdu", ["--json", "deb"]).stdout).deb;
  expect(own.ownInodes).toBeGreaterThan(5);

  const again = ok("deb", "hashify");
  expect(again).toContain("hashified again");
  expect(JSON.parse(h.run("vdu", ["--json", "deb"]).stdout).deb.ownInodes).toBe(0);

  const t1 = performance.now();
  ok("deb2", "build", "-m", "clone", "--", "-s", "deb");
  const cloneMs = performance.now() - t1;
  expect(cloneMs).toBeLessThan(5000);

  ok("deb", "start");
  ok("deb2", "start");
  for (const g of ["deb", "deb2"]) {
    expect(comms(g)).toContain("cron");
    expect(h.inGuest(g, "dpkg", "--verify").stdout).toBe("");
  }
  expect(h.inGuest("deb2", "hostname").stdout.trim()).toBe("deb2");
  ok("deb", "stop");
  ok("deb2", "stop");

  // Two unified guests take little more than one plain one.
  const unifiedMiB = dfUsedMiB();
  console.log(`debian: plain ${plainMiB} MiB used; hashify ${hashifyMs.toFixed(0)} ms; clone ${cloneMs.toFixed(0)} ms; two unified guests ${unifiedMiB} MiB used`);
  expect(unifiedMiB).toBeLessThan(plainMiB * 1.3);
}, 1_800_000);

// A full disk and dead lock owners: the state root (config, guest roots, run state, logs) on a
// small tmpfs that the test fills up. Stop must still stop the guest, a start that cannot write
// fails naming the file and leaves nothing behind, and a lock whose owner cannot be told (empty or
// garbled, as a maker killed between create and write leaves it) does not block for ever.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { TestHost, busyboxGuest } from "../helpers/host";

const h = new TestHost("disk");
// Direct runs only: a host service started on this root would keep its socket on the tmpfs and
// hold it busy after the test (the service's own behaviour is service.test.ts's subject).
h.env.VSERVER_SERVICE = "off";
const filler = `${h.root}/filler`;

function fill(): void {
  // dd stops with ENOSPC when the tmpfs is full; that is the point.
  Bun.spawnSync(["dd", "if=/dev/zero", `of=${filler}`, "bs=64k"], { stdout: "ignore", stderr: "ignore" });
  Bun.spawnSync(["sh", "-c", `i=0; while echo x > ${filler}.$i 2>/dev/null; do i=$((i+1)); done`]);
}

/** Fill all but about `kib` KiB, so that a build fails in the middle of writing the root. */
function fillLeaving(kib: number): void {
  const avail = Number(Bun.spawnSync(["df", "-k", "--output=avail", h.root]).stdout.toString().trim().split("\n").pop());
  Bun.spawnSync(["dd", "if=/dev/zero", `of=${filler}`, "bs=1k", `count=${Math.max(0, avail - kib)}`], { stdout: "ignore", stderr: "ignore" });
}

function unfill(): void {
  for (const f of readdirSync(h.root)) if (f.startsWith("filler")) rmSync(`${h.root}/${f}`, { force: true });
}

/** What the host still holds of this root, besides the tmpfs that is the root itself. */
function leftovers(): string[] {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.split(" ")[4]?.startsWith(`${h.root}/`));
  return [...h.leftovers().filter((l) => !l.includes("mounts under")), ...mounts];
}

function running(name: string): boolean {
  return h.vserver(name, "running").code === 0;
}

beforeAll(() => {
  expect(Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=24m,mode=0755", "vst-disk", h.root]).exitCode).toBe(0);
  busyboxGuest(h, "full");
});

afterAll(() => {
  try {
    unfill();
    h.run("vserver", ["--silent", "full", "stop"], { timeout: 60 });
    h.run("vserver", ["--silent", "full", "delete", "--force"], { timeout: 60 });
  } finally {
    for (let i = 0; i < 50 && Bun.spawnSync(["umount", h.root]).exitCode !== 0; i++) Bun.sleepSync(100);
    h.cleanup();
  }
});

test("stop stops a running guest on a full disk", () => {
  h.ok("full", "start");
  fill();
  try {
    const r = h.vserver("full", "stop");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(running("full")).toBe(false);
    expect(h.vserver("full", "status").stdout).toMatch(/is stopped/);
    expect(leftovers()).toEqual([]);
  } finally {
    unfill();
  }
});

test("a full disk never leaves half a line in the journal or the guest's log", () => {
  h.ok("full", "start");
  // Each file ends 24 bytes short of a page: the next line crosses into a page the full tmpfs
  // cannot give, so without care its first 24 bytes would land and the rest be lost.
  const journal = `${h.logDir}/events.log`;
  const files = [journal, `${h.logDir}/full.log`];
  const pad = (f: string) => {
    const size = readFileSync(f).length;
    const want = 4096 - 24 - (size % 4096) + (size % 4096 > 4096 - 24 - 20 ? 4096 : 0);
    appendFileSync(f, `{"pad":"${"x".repeat(want - 11)}"}\n`);
    return readFileSync(f).length;
  };
  const sizes = files.map(pad);
  fill();
  try {
    // A start of a running guest writes its journal line only, and frees nothing first.
    expect(h.vserver("full", "start").stderr).toMatch(/already running/);
    expect(readFileSync(journal).length).toBe(sizes[0]!);
    // Stop writes its first log line before it frees anything.
    expect(h.vserver("full", "stop").code).toBe(0);
    for (const f of files) expect(readFileSync(f, "utf8").endsWith("\n")).toBe(true);
    for (const line of readFileSync(journal, "utf8").trim().split("\n")) JSON.parse(line);
    expect(readFileSync(files[1]!, "utf8")).not.toContain("=== \n");
  } finally {
    unfill();
  }
  // With space again, lines are written as before.
  h.ok("full", "start");
  h.ok("full", "stop");
  expect(readFileSync(journal, "utf8").trim().split("\n").pop()).toMatch(/"op":"stop","guest":"full"/);
});

test("settings saved on a full disk keep their old value, and the file is named", () => {
  const cfg = h.cfg("full");
  mkdirSync(`${cfg}/rlimits`, { recursive: true });
  writeFileSync(`${cfg}/rlimits/nproc`, "300\n");
  writeFileSync(`${cfg}/cflags`, "\n");
  h.ok("full", "start");
  fill();
  try {
    const cases: Array<[string, string[], string]> = [
      ["vlimit", ["-c", "full", "--nproc", "200", "--save"], `${cfg}/rlimits/nproc`],
      ["vattribute", ["--xid", "full", "--set", "--flag", "private"], `${cfg}/cflags`],
      ["vuname", ["-s", "--xid", "full", "-t", "nodename=elsewhere", "--save"], `${cfg}/uts/nodename`],
    ];
    // A setting that was not there yet must not be left behind empty.
    const fresh = h.run("vlimit", ["-c", "full", "--nofile", "1000", "--save"]);
    expect(fresh.stderr).toContain(`${cfg}/ulimits/nofile: no space left`);
    expect(existsSync(`${cfg}/ulimits/nofile`)).toBe(false);
    for (const [cmd, args, file] of cases) {
      const before = readFileSync(file, "utf8");
      const r = h.run(cmd, args);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`${file}: no space left`);
      expect(r.stderr.trim().split("\n").length).toBe(1);
      expect(readFileSync(file, "utf8")).toBe(before);
      expect(readdirSync(file.slice(0, file.lastIndexOf("/"))).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    }
  } finally {
    unfill();
  }
  expect(h.run("vlimit", ["-c", "full", "--nproc", "200", "--save"]).code).toBe(0);
  expect(readFileSync(`${cfg}/rlimits/nproc`, "utf8").trim()).toBe("200");
  h.ok("full", "stop");
  rmSync(`${cfg}/rlimits`, { recursive: true });
  rmSync(`${cfg}/cflags`);
});

test("chcontext on a full disk names the label it could not write, and leaves none", () => {
  h.ok("--list"); // the run directory exists, as on any used installation
  fill();
  try {
    const r = h.run("chcontext", ["true"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`cannot write ${h.runDir}/\\.contexts/\\d+: no space left`));
    expect(r.stderr.trim().split("\n").length).toBe(1);
    expect(existsSync(`${h.runDir}/.contexts`)).toBe(false);
  } finally {
    unfill();
  }
  expect(h.run("chcontext", ["true"]).code).toBe(0);
  expect(existsSync(`${h.runDir}/.contexts`)).toBe(false);
});

test("start on a full disk fails naming the file, and leaves nothing behind", () => {
  fill();
  try {
    const r = h.vserver("full", "start");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no space left/);
    expect(r.stderr).toContain(h.root); // the file is named
    expect(r.stderr.trim().split("\n").length).toBe(1);
    expect(running("full")).toBe(false);
    expect(leftovers()).toEqual([]);
    expect(readdirSync(`${h.root}/run/vservers/.locks`).filter((f) => !f.startsWith("."))).toEqual([]);
  } finally {
    unfill();
  }
  h.ok("full", "start");
  h.ok("full", "stop");
});

test("a build on a full disk fails naming where it wrote, and keeps nothing", () => {
  fill();
  try {
    const r = h.vserver("nospace", "build", "-m", "busybox", "--quiet");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no space|ran out of space/);
    expect(r.stderr).toContain(h.root);
    expect(r.stderr.trim().split("\n").length).toBe(1);
    expect(readdirSync(`${h.root}/etc/vservers`).filter((f) => f.includes("nospace"))).toEqual([]);
    expect(readdirSync(`${h.root}/vservers`).filter((f) => f.includes("nospace"))).toEqual([]);
  } finally {
    unfill();
  }
});

test("a build that fills the disk while writing the root keeps nothing", () => {
  fillLeaving(1024);
  try {
    const r = h.vserver("halfway", "build", "-m", "busybox", "--quiet");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no space|ran out of space/);
    expect(r.stderr.trim().split("\n").length).toBe(1);
    expect(readdirSync(`${h.root}/etc/vservers`).filter((f) => f.includes("halfway"))).toEqual([]);
    expect(readdirSync(`${h.root}/vservers`).filter((f) => f.includes("halfway"))).toEqual([]);
  } finally {
    unfill();
  }
});

for (const [what, content] of [["empty", ""], ["garbled", "\0\0junk"]] as const) {
  test(`an ${what} lock file left by a killed maker is stale after a few seconds`, () => {
    const lock = `${h.root}/run/vservers/.locks/full.lock`;
    mkdirSync(`${h.root}/run/vservers/.locks`, { recursive: true });
    writeFileSync(lock, content);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    let t = Date.now();
    h.ok("full", "start");
    expect(Date.now() - t).toBeLessThan(20_000);
    // A fresh one is waited for (it may still be written), then taken over.
    writeFileSync(lock, content);
    t = Date.now();
    h.ok("full", "stop");
    expect(Date.now() - t).toBeGreaterThan(3_000);
    expect(Date.now() - t).toBeLessThan(30_000);
    expect(existsSync(lock)).toBe(false);
  });
}

test("an empty runtime-view lock does not stop every guest's start", () => {
  const lock = `${h.root}/run/vservers/.locks/.runtime-view.lock`;
  writeFileSync(lock, "");
  const old = new Date(Date.now() - 60_000);
  utimesSync(lock, old, old);
  const t = Date.now();
  h.ok("full", "start");
  expect(Date.now() - t).toBeLessThan(20_000);
  h.ok("full", "stop");
});

// Unification (docs/unification.md) on a loop-backed XFS the test makes and removes: hashify,
// start (in a user namespace and privileged), writes and re-hashify, unify -R, clone, gc, vdu,
// refusals, and a guest's root trying to change a shared object by every means it has. The
// store's integrity is checked from outside: every object still hashes to its own name.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { TestHost, busyboxGuest, compileStatic, REPO } from "../helpers/host";
import { XfsPool } from "../helpers/xfs-pool";

const h = new TestHost("unify");
const pool = new XfsPool(`${h.root}/vservers`);
const plainHost = new TestHost("unify-ext4");
const ATTACK = `${h.root}.unify-attack`;
const STORE = `${h.root}/vservers/.unify/store`;
const ATTACKS = ["write", "truncate", "mmap", "procfd", "chmod", "chown", "xattr", "overlay-xattr", "chattr", "punch", "dedupe", "rename", "link"];

afterAll(() => {
  try {
    h.removeGuests();
  } finally {
    pool.remove();
    Bun.spawnSync(["rm", "-f", ATTACK]);
    h.cleanup();
    plainHost.cleanup();
  }
});

function ok(t: TestHost, cmd: string, ...args: string[]): string {
  const r = t.run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** Every object of the store still holds the content its name is the hash of. */
function storeDamage(): string[] {
  const bad: string[] = [];
  for (const d of readdirSync(STORE)) {
    for (const f of readdirSync(`${STORE}/${d}`)) {
      const p = `${STORE}/${d}/${f}`;
      const sum = new Bun.CryptoHasher("sha256").update(readFileSync(p)).digest("hex");
      if (sum !== d + f) bad.push(p);
      const st = lstatSync(p);
      if ((st.mode & 0o7777) !== 0o444 || st.uid !== 0) bad.push(`${p} (mode ${(st.mode & 0o7777).toString(8)}, uid ${st.uid})`);
    }
  }
  return bad;
}

function objectCount(): number {
  let n = 0;
  for (const d of readdirSync(STORE)) n += readdirSync(`${STORE}/${d}`).filter((f) => !f.startsWith(".")).length;
  return n;
}

/** A command killed at its fault point: 137 in a direct run; the client of a killed service worker says 125. */
const KILLED = [137, 125];

const original = (name: string) => `original ${name}\n` + "x".repeat(8192);

beforeAll(() => {
  compileStatic(`${REPO}/tests/escape/unify-attack.c`, ATTACK);
  busyboxGuest(h, "u1");
  // Files for the attacks, one each (a copy-up by one attack must not hide another), and the
  // attack program, all put in while the guest is plain.
  mkdirSync(`${h.vdir("u1")}/t`);
  for (const a of ATTACKS) writeFileSync(`${h.vdir("u1")}/t/${a}`, original(a), { mode: 0o644 });
  writeFileSync(`${h.vdir("u1")}/t/other`, "other content\n".repeat(600), { mode: 0o644 });
  writeFileSync(`${h.vdir("u1")}/t/setuid`, "#!/bin/sh\n", { mode: 0o4755 });
  Bun.spawnSync(["ln", `${h.vdir("u1")}/t/write`, `${h.vdir("u1")}/t/hardlink`]);
  // Links a guest made to the host's files: kept as links, never followed by the host.
  Bun.spawnSync(["ln", "-s", "/etc", `${h.vdir("u1")}/t/hostetc`]);
  Bun.spawnSync(["ln", "-s", "/etc/shadow", `${h.vdir("u1")}/t/shadow`]);
  copyFileSync(ATTACK, `${h.vdir("u1")}/attack`);
  chmodSync(`${h.vdir("u1")}/attack`, 0o755);
});

describe("hashify", () => {
  test("moves a stopped guest's files into the store and leaves its root an empty mount point", () => {
    const out = ok(h, "vserver", "u1", "hashify");
    expect(out).toContain("hashified");
    expect(out).toContain("storage: xfs on /dev/loop");
    expect(readdirSync(h.vdir("u1"))).toEqual([]);
    expect(objectCount()).toBeGreaterThan(10);
    expect(storeDamage()).toEqual([]);
    // The metadata tree keeps owners, modes and hard links; its stubs hold no data.
    const meta = `${h.root}/vservers/.unify/guests/u1/gen-1/meta`;
    const stub = lstatSync(`${meta}/t/setuid`);
    expect(stub.mode & 0o7777).toBe(0o4755);
    expect(stub.blocks).toBe(0);
    expect(lstatSync(`${meta}/t/write`).ino).toBe(lstatSync(`${meta}/t/hardlink`).ino);
    expect(lstatSync(`${meta}/t/hostetc`).isSymbolicLink()).toBe(true);
    expect(lstatSync(`${meta}/t/shadow`).isSymbolicLink()).toBe(true);
    const shadow = new Bun.CryptoHasher("sha256").update(readFileSync("/etc/shadow")).digest("hex");
    expect(existsSync(`${STORE}/${shadow.slice(0, 2)}/${shadow.slice(2)}`)).toBe(false);
  });

  test("again on an unchanged guest adds nothing to the store", () => {
    const before = objectCount();
    const out = ok(h, "vhashify", "u1");
    expect(out).toContain("hashified again");
    expect(out).toContain(" 0 new objects");
    expect(objectCount()).toBe(before);
    expect(readdirSync(`${h.root}/vservers/.unify/guests/u1`).sort()).toEqual(["current", "gen-2"]);
  });

  test("a unified guest starts in its own user namespace and sees its files as they were", () => {
    ok(h, "vserver", "u1", "start");
    expect(ok(h, "vserver", "u1", "exec", "cat", "/t/write").startsWith("original write")).toBe(true);
    const ls = ok(h, "vserver", "u1", "exec", "ls", "-ln", "/t/setuid", "/t/write", "/t/hardlink");
    expect(ls).toMatch(/-rwsr-xr-x\s+1 0\s+0 .*\/t\/setuid/);
    expect(ls).toMatch(/-rw-r--r--\s+2 0\s+0 .*\/t\/write/);
    // Its root is ours to own inside, and mapped on the host: uid 0 inside is not the host's root.
    expect(ok(h, "vserver", "u1", "exec", "cat", "/proc/self/uid_map")).not.toMatch(/^\s*0\s+0\s/);
    // The host finds the guest's programs in its mounted root (its root directory is empty).
    const across = h.run("vsomething", ["hostname", "u1"]);
    expect(across.stderr + across.stdout).not.toContain("no such program");
    expect(across.code, across.stderr + across.stdout).toBe(0);
    // Nothing of the store is reachable from inside.
    expect(h.inGuest("u1", "ls", STORE).code).not.toBe(0);
    expect(h.inGuest("u1", "ls", `${h.root}/vservers/.unify`).code).not.toBe(0);
  });

  test("a running guest is never hashified, de-unified or cloned under it", () => {
    const r = h.vserver("u1", "hashify");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("guest 'u1' is running; stop it before hashify");
    const d = h.vserver("u1", "unify", "-R");
    expect(d.code).not.toBe(0);
    expect(d.stderr).toContain("is running");
    const c = h.vserver("cx", "build", "-m", "clone", "--", "-s", "u1");
    expect(c.code).not.toBe(0);
    expect(c.stderr).toContain("guest 'u1' is running; stop it before cloning it");
    expect(existsSync(h.cfg("cx"))).toBe(false);
    expect(existsSync(h.vdir("cx"))).toBe(false);
    expect(readdirSync(`${h.root}/vservers/.unify/guests`)).toEqual(["u1"]);
  });
});

describe("a guest's root cannot change a shared object", () => {
  beforeAll(() => {
    ok(h, "vserver", "u1", "stop");
    // u2 shares every object with u1; it must see them unchanged whatever u1 does.
    ok(h, "vserver", "u2", "build", "-m", "clone", "--", "-s", "u1");
    ok(h, "vserver", "u1", "start");
    ok(h, "vserver", "u2", "start");
  });

  for (const a of ATTACKS) {
    test(a, () => {
      const other = a === "dedupe" ? "/t/other" : `/t/${a}.new`;
      const r = h.inGuest("u1", "/attack", a, `/t/${a}`, other);
      expect(r.code).toBe(0);
      expect(storeDamage()).toEqual([]);
      // The other guest's file is the same file as before, content and attributes.
      expect(ok(h, "vserver", "u2", "exec", "cat", `/t/${a}`)).toBe(original(a));
      expect(ok(h, "vserver", "u2", "exec", "stat", "-c", "%a %u %g %s", `/t/${a}`)).toBe(`644 0 0 ${original(a).length}\n`);
    });
  }

  test("the attacks did reach the attacker's own copy (the test can see a change)", () => {
    expect(ok(h, "vserver", "u1", "exec", "cat", "/t/write").startsWith("PWNED")).toBe(true);
    // The hard link to it is the same file in the guest's own view.
    expect(ok(h, "vserver", "u1", "exec", "cat", "/t/hardlink").startsWith("PWNED")).toBe(true);
    expect(ok(h, "vserver", "u1", "exec", "stat", "-c", "%a", "/t/chmod")).toBe("4777\n");
    expect(ok(h, "vserver", "u2", "exec", "cat", "/t/hardlink")).toBe(original("write"));
  });
});

describe("after changes inside", () => {
  test("re-hashify brings the guest's new files into the store and empties its upper", () => {
    ok(h, "vserver", "u1", "exec", "sh", "-c", "echo upgraded > /etc/new-conf; echo more >> /etc/passwd; mkdir -p /srv; echo new data > /srv/new-data");
    ok(h, "vserver", "u1", "stop");
    const du = JSON.parse(ok(h, "vdu", "--json", "u1")).u1;
    expect(du.unified).toBe(true);
    expect(du.ownInodes).toBeGreaterThan(0);
    const out = ok(h, "vserver", "u1", "hashify");
    expect(out).toMatch(/[1-9]\d* new objects/);
    // A new file is shared; what util-vserver's exclude list keeps (/etc/*) stays the guest's.
    expect(existsSync(objectOf("new data\n"))).toBe(true);
    expect(existsSync(objectOf("upgraded\n"))).toBe(false);
    const after = JSON.parse(ok(h, "vdu", "--json", "u1")).u1;
    expect(after.ownInodes).toBe(0);
    expect(after.alsoUsedByOthers).toBeGreaterThan(0);
    ok(h, "vserver", "u1", "start");
    expect(ok(h, "vserver", "u1", "exec", "cat", "/etc/new-conf")).toBe("upgraded\n");
    expect(ok(h, "vserver", "u1", "exec", "tail", "-n", "1", "/etc/passwd")).toBe("more\n");
    expect(ok(h, "vserver", "u1", "exec", "cat", "/t/write").startsWith("PWNED")).toBe(true);
    ok(h, "vserver", "u1", "stop");
    expect(storeDamage()).toEqual([]);
  });

  test("a clone of a unified guest is fast and shares its store", () => {
    ok(h, "vserver", "u2", "stop");
    const before = objectCount();
    const t0 = performance.now();
    ok(h, "vserver", "c1", "build", "-m", "clone", "--hostname", "c1.test", "--", "-s", "u1");
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(3000);
    expect(objectCount()).toBe(before);
    ok(h, "vserver", "c1", "start");
    expect(ok(h, "vserver", "c1", "exec", "cat", "/etc/hostname")).toBe("c1.test\n");
    expect(ok(h, "vserver", "c1", "exec", "cat", "/etc/new-conf")).toBe("upgraded\n");
    ok(h, "vserver", "c1", "stop");
  });

  test("unify -R gives back a plain tree with the same content", () => {
    ok(h, "vserver", "c1", "unify", "-R");
    expect(existsSync(`${h.root}/vservers/.unify/guests/c1`)).toBe(false);
    expect(readFileSync(`${h.vdir("c1")}/etc/new-conf`, "utf8")).toBe("upgraded\n");
    expect(readFileSync(`${h.vdir("c1")}/t/write`, "utf8").startsWith("PWNED")).toBe(true);
    expect(lstatSync(`${h.vdir("c1")}/t/setuid`).mode & 0o7777).toBe(0o4755);
    ok(h, "vserver", "c1", "start");
    expect(ok(h, "vserver", "c1", "exec", "cat", "/etc/hostname")).toBe("c1.test\n");
    ok(h, "vserver", "c1", "stop");
    const r = h.vserver("c1", "unify", "-R");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("is not unified");
  });

  test("gc removes only the objects no guest refers to", () => {
    ok(h, "vserver", "u2", "delete", "--force");
    const before = objectCount();
    const out = ok(h, "vhashify", "--gc");
    expect(out).toMatch(/\d+ removed/);
    expect(objectCount()).toBeLessThan(before);
    expect(storeDamage()).toEqual([]);
    ok(h, "vserver", "u1", "start");
    // Every file of u1 still reads: no object it needs was removed.
    expect(h.inGuest("u1", "sh", "-c", "find / -xdev -type f -exec cat {} + > /dev/null").code).toBe(0);
    ok(h, "vserver", "u1", "stop");
  });

  test("a privileged guest built --unified starts from the store", () => {
    busyboxGuest(h, "p1", { "security/privileged": "" }, ["--unified"]);
    expect(readdirSync(h.vdir("p1"))).toEqual([]);
    ok(h, "vserver", "p1", "start");
    expect(ok(h, "vserver", "p1", "exec", "cat", "/proc/self/uid_map")).toMatch(/^\s*0\s+0\s/);
    expect(ok(h, "vserver", "p1", "exec", "cat", "/etc/hostname")).toBe("p1\n");
    ok(h, "vserver", "p1", "stop");
    expect(h.leftovers().filter((l) => !l.includes("mounts"))).toEqual([]);
  });
});

describe("one page cache for all guests", () => {
  /** Pages of a file in the page cache, from the host (util-linux fincore). */
  function cachedPages(file: string): number {
    const r = Bun.spawnSync(["fincore", "--bytes", "--noheadings", "--output", "PAGES", file], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`fincore ${file}: ${r.stderr.toString()}`);
    return Number(r.stdout.toString().trim());
  }

  /** Drop one file's pages from the cache (POSIX_FADV_DONTNEED), never the whole host's. */
  function evict(file: string): void {
    Bun.spawnSync(["dd", `if=${file}`, "iflag=nocache", "count=0", "status=none"]);
  }

  test("two guests reading a shared file read the one object: its pages, cached once", () => {
    busyboxGuest(h, "m1");
    const big = new Uint8Array(16 << 20);
    for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
    writeFileSync(`${h.vdir("m1")}/big`, big);
    ok(h, "vserver", "m1", "hashify");
    ok(h, "vserver", "m2", "build", "-m", "clone", "--", "-s", "m1");
    const digest = new Bun.CryptoHasher("sha256").update(big).digest("hex");
    const object = `${STORE}/${digest.slice(0, 2)}/${digest.slice(2)}`;
    expect(existsSync(object)).toBe(true);
    const pages = big.length / 4096;
    ok(h, "vserver", "m1", "start");
    ok(h, "vserver", "m2", "start");
    try {
      for (const g of ["m1", "m2"]) {
        evict(object);
        expect(cachedPages(object)).toBeLessThan(pages / 10);
        ok(h, "vserver", g, "exec", "sh", "-c", "cat /big > /dev/null");
        // The guest's read filled the object's own cache: no copy of the file stands between.
        expect(cachedPages(object)).toBeGreaterThan(pages * 0.9);
      }
      // Neither guest holds a copy of its own: no data in the metadata stubs, nothing in the uppers.
      for (const g of ["m1", "m2"]) {
        const dir = `${h.root}/vservers/.unify/guests/${g}`;
        const cur = readdirSync(dir).find((e) => e.startsWith("gen-"))!;
        expect(lstatSync(`${dir}/${cur}/meta/big`).blocks).toBe(0);
        expect(existsSync(`${dir}/${cur}/upper/big`)).toBe(false);
      }
    } finally {
      ok(h, "vserver", "m1", "stop");
      ok(h, "vserver", "m2", "stop");
    }
    // Against a plain copy the same check fails: its reads never touch the object.
    ok(h, "vserver", "m2", "unify", "-R");
    ok(h, "vserver", "m2", "start");
    evict(object);
    ok(h, "vserver", "m2", "exec", "sh", "-c", "cat /big > /dev/null");
    expect(cachedPages(object)).toBeLessThan(pages / 10);
    ok(h, "vserver", "m2", "stop");
  });
});

/** The object a content would be stored as. */
function objectOf(content: string): string {
  const d = new Bun.CryptoHasher("sha256").update(content).digest("hex");
  return `${STORE}/${d.slice(0, 2)}/${d.slice(2)}`;
}

/** The metadata tree of a unified guest's generation in force. */
function metaOf(name: string): string {
  const dir = `${h.root}/vservers/.unify/guests/${name}`;
  return `${dir}/${readlinkSync(`${dir}/current`)}/meta`;
}

/** A busybox guest with these files (paths from its root) put in while it is plain. */
function guestWith(name: string, files: Record<string, string>, config: Record<string, string> = {}): void {
  busyboxGuest(h, name, config);
  for (const [rel, content] of Object.entries(files)) {
    const p = `${h.vdir(name)}/${rel}`;
    mkdirSync(p.slice(0, p.lastIndexOf("/")), { recursive: true });
    writeFileSync(p, content, { mode: 0o644 });
  }
}

describe("apps/vunify/exclude", () => {
  const defaults = `${h.confDir}/.defaults/apps/vunify/exclude`;
  afterAll(() => {
    rmSync(defaults, { force: true });
    for (const n of ["x1", "x2", "x3", "x4"]) h.run("vserver", ["--silent", n, "delete", "--force"], { timeout: 60 });
  });

  test("by default util-vserver's list: /etc/*, /var and the like keep their content with the guest, out of the store", () => {
    guestWith("x1", { "etc/x1-secret": "x1 secret\n", "var/lib/x1-state": "x1 state\n", "srv/x1-data": "x1 shared data\n" });
    const out = ok(h, "vserver", "x1", "hashify");
    expect(out).toMatch(/, [1-9]\d* of them \(.*\) kept with the guest by the built-in list \(util-vserver's defaults\/vunify-exclude\), /);
    // Kept: the whole file in the metadata tree and no object; unified: a stub without data, and its object.
    const meta = metaOf("x1");
    expect(readFileSync(`${meta}/etc/x1-secret`, "utf8")).toBe("x1 secret\n");
    expect(existsSync(objectOf("x1 secret\n"))).toBe(false);
    expect(readFileSync(`${meta}/var/lib/x1-state`, "utf8")).toBe("x1 state\n");
    expect(existsSync(objectOf("x1 state\n"))).toBe(false);
    expect(lstatSync(`${meta}/srv/x1-data`).blocks).toBe(0);
    expect(existsSync(objectOf("x1 shared data\n"))).toBe(true);
    ok(h, "vserver", "x1", "start");
    expect(ok(h, "vserver", "x1", "exec", "cat", "/etc/x1-secret", "/var/lib/x1-state", "/srv/x1-data")).toBe("x1 secret\nx1 state\nx1 shared data\n");
    ok(h, "vserver", "x1", "exec", "sh", "-c", "echo x1 changed > /etc/x1-secret");
    ok(h, "vserver", "x1", "stop");
    // Again after a change: still kept, still out of the store; vdu counts it as the guest's.
    ok(h, "vserver", "x1", "hashify");
    expect(readFileSync(`${metaOf("x1")}/etc/x1-secret`, "utf8")).toBe("x1 changed\n");
    expect(existsSync(objectOf("x1 changed\n"))).toBe(false);
    expect(JSON.parse(ok(h, "vdu", "--json", "x1")).x1.metaBytes).toBeGreaterThan(0);
  });

  test(".defaults' list replaces the built-in one, and a guest's own replaces both", () => {
    mkdirSync(defaults.slice(0, defaults.lastIndexOf("/")), { recursive: true });
    writeFileSync(defaults, "# the host's own\n/srv\n");
    guestWith("x2", { "etc/x2-conf": "x2 conf\n", "srv/x2-data": "x2 data\n" });
    guestWith("x3", { "etc/x3-conf": "x3 conf\n", "srv/x3-data": "x3 data\n", "opt/x3-own": "x3 own\n" }, { "apps/vunify/exclude": "+/srv\n/opt/*\n" });
    expect(ok(h, "vserver", "x2", "hashify")).toContain(".defaults/apps/vunify/exclude");
    expect(existsSync(objectOf("x2 conf\n"))).toBe(true);
    expect(existsSync(objectOf("x2 data\n"))).toBe(false);
    expect(readFileSync(`${metaOf("x2")}/srv/x2-data`, "utf8")).toBe("x2 data\n");
    expect(ok(h, "vhashify", "x3")).toContain(`kept with the guest by ${h.cfg("x3")}/apps/vunify/exclude`);
    expect(existsSync(objectOf("x3 conf\n"))).toBe(true);
    expect(existsSync(objectOf("x3 data\n"))).toBe(true);
    expect(existsSync(objectOf("x3 own\n"))).toBe(false);
    ok(h, "vserver", "x3", "start");
    expect(ok(h, "vserver", "x3", "exec", "cat", "/etc/x3-conf", "/srv/x3-data", "/opt/x3-own")).toBe("x3 conf\nx3 data\nx3 own\n");
    ok(h, "vserver", "x3", "stop");
  });

  test("a list with a line that cannot match is refused in one sentence naming the file and line, before anything is changed", () => {
    guestWith("x4", { "etc/x4": "x4\n" });
    const list = `${h.cfg("x4")}/apps/vunify/exclude`;
    mkdirSync(`${h.cfg("x4")}/apps/vunify`, { recursive: true });
    writeFileSync(list, "/ok\netc/passwd\n");
    const r = h.vserver("x4", "hashify");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toBe(`vserver: ${list}, line 2: 'etc/passwd' does not start with '/': patterns are matched against paths from the guest's root, such as /etc/passwd.\n`);
    expect(existsSync(`${h.root}/vservers/.unify/guests/x4`)).toBe(false);
    expect(readFileSync(`${h.vdir("x4")}/etc/x4`, "utf8")).toBe("x4\n");
    rmSync(list);
  });
});

describe("hard links a copy-up split", () => {
  test("stay one file, with what the guest saw, after re-hashify and unify -R", () => {
    guestWith("l1", { "t/a": "linked original\n", "t/d": "pair original\n" });
    linkSync(`${h.vdir("l1")}/t/a`, `${h.vdir("l1")}/t/b`);
    linkSync(`${h.vdir("l1")}/t/a`, `${h.vdir("l1")}/t/c`);
    linkSync(`${h.vdir("l1")}/t/d`, `${h.vdir("l1")}/t/e`);
    ok(h, "vserver", "l1", "hashify");
    ok(h, "vserver", "l1", "start");
    // One name written (copied up), another written and removed: in the guest's view (the
    // overlay's index) the other names are still the same file.
    ok(h, "vserver", "l1", "exec", "sh", "-c", "echo linked changed > /t/a; echo pair changed > /t/d; rm /t/d");
    expect(ok(h, "vserver", "l1", "exec", "cat", "/t/b", "/t/c", "/t/e")).toBe("linked changed\nlinked changed\npair changed\n");
    ok(h, "vserver", "l1", "stop");
    ok(h, "vserver", "l1", "hashify");
    const meta = metaOf("l1");
    const ino = (n: string) => lstatSync(`${meta}/t/${n}`).ino;
    expect([ino("b"), ino("c")]).toEqual([ino("a"), ino("a")]);
    expect(lstatSync(`${meta}/t/a`).nlink).toBe(3);
    expect(existsSync(objectOf("linked original\n")) && existsSync(objectOf("linked changed\n"))).toBe(true);
    ok(h, "vserver", "l1", "start");
    expect(ok(h, "vserver", "l1", "exec", "cat", "/t/a", "/t/b", "/t/c", "/t/e")).toBe("linked changed\n".repeat(3) + "pair changed\n");
    ok(h, "vserver", "l1", "exec", "sh", "-c", "echo again > /t/c");
    expect(ok(h, "vserver", "l1", "exec", "cat", "/t/a")).toBe("again\n");
    ok(h, "vserver", "l1", "stop");
    ok(h, "vserver", "l1", "unify", "-R");
    const plain = (n: string) => lstatSync(`${h.vdir("l1")}/t/${n}`);
    expect([plain("b").ino, plain("c").ino, plain("a").nlink]).toEqual([plain("a").ino, plain("a").ino, 3]);
    expect(readFileSync(`${h.vdir("l1")}/t/b`, "utf8")).toBe("again\n");
    ok(h, "vserver", "l1", "delete", "--force");
  });
});

describe("re-hashify after renamed and replaced directories", () => {
  test("takes each file from where the guest saw it, not from its old place in the metadata tree", () => {
    guestWith("r1", { "d1/f": "r1 d1 f\n", "d2/g": "r1 d2 g\n", "d4/h": "r1 d4 h\n", "var/k": "r1 kept\n" });
    ok(h, "vserver", "r1", "hashify");
    ok(h, "vserver", "r1", "start");
    // A renamed directory (a redirect in the upper), one replaced by a new one (opaque), a file
    // replaced by another of the same size, and a kept file changed.
    ok(h, "vserver", "r1", "exec", "sh", "-c", "mv /d1 /d3; rm -rf /d2; mkdir /d2; echo r1 new g > /d2/g; echo r1 d4 X > /d4/h; echo r1 KEPT > /var/k");
    ok(h, "vserver", "r1", "stop");
    ok(h, "vserver", "r1", "hashify");
    ok(h, "vserver", "r1", "start");
    expect(ok(h, "vserver", "r1", "exec", "cat", "/d3/f", "/d2/g", "/d4/h", "/var/k")).toBe("r1 d1 f\nr1 new g\nr1 d4 X\nr1 KEPT\n");
    expect(h.inGuest("r1", "ls", "/d1").code).not.toBe(0);
    ok(h, "vserver", "r1", "stop");
    // Again, untouched: the same content, read from the metadata tree this time.
    ok(h, "vserver", "r1", "hashify");
    ok(h, "vserver", "r1", "start");
    expect(ok(h, "vserver", "r1", "exec", "cat", "/d3/f", "/d2/g", "/d4/h", "/var/k")).toBe("r1 d1 f\nr1 new g\nr1 d4 X\nr1 KEPT\n");
    ok(h, "vserver", "r1", "stop");
    expect(storeDamage()).toEqual([]);
    ok(h, "vserver", "r1", "delete", "--force");
  });
});

describe("killed commands leave every guest startable", () => {
  const points: Array<[string, string[]]> = [
    ["unify.after-generation", ["k1", "hashify"]],
    ["unify.after-move-aside", ["k1", "hashify"]],
    ["unify.after-switch", ["k1", "hashify"]],
    ["unify.before-plain-rename", ["k1", "unify", "-R"]],
    ["unify.after-plain-rename", ["k1", "unify", "-R"]],
  ];
  beforeAll(() => {
    busyboxGuest(h, "k1");
    writeFileSync(`${h.vdir("k1")}/marker`, "k1 marker\n");
  });
  for (const [point, args] of points) {
    test(`kill -9 at ${point}`, () => {
      // Each point needs the guest in the state its command starts from.
      const unified = existsSync(`${h.root}/vservers/.unify/guests/k1/current`);
      if (args[1] === "hashify" && unified) ok(h, "vserver", "k1", "unify", "-R");
      if (args[1] === "unify" && !unified) ok(h, "vserver", "k1", "hashify");
      const r = h.run("vserver", args, { env: { VSERVER_FAULT: `${point}:kill` } });
      expect(KILLED).toContain(r.code);
      ok(h, "vserver", "k1", "start");
      expect(ok(h, "vserver", "k1", "exec", "cat", "/marker")).toBe("k1 marker\n");
      ok(h, "vserver", "k1", "stop");
      // The next command finds nothing half-made: one generation at most, no copies, no views.
      const dir = `${h.root}/vservers/.unify/guests/k1`;
      const left = existsSync(dir) ? readdirSync(dir).sort() : [];
      expect(left.filter((e) => !/^(current|gen-\d+)$/.test(e))).toEqual([]);
      expect(left.filter((e) => e.startsWith("gen-")).length).toBeLessThanOrEqual(1);
      expect(existsSync(`${h.runDir}/.unify-views/k1`)).toBe(false);
      expect(storeDamage()).toEqual([]);
    });
  }

  test("processes a killed start left are torn down before hashify walks the tree", () => {
    if (!existsSync(`${h.root}/vservers/.unify/guests/k1/current`)) ok(h, "vserver", "k1", "hashify");
    const s = h.run("vserver", ["k1", "start"], { env: { VSERVER_FAULT: "start.after-runtime:kill" } });
    expect(KILLED).toContain(s.code);
    const r = h.vserver("k1", "hashify");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("hashify stopped and removed them");
    expect(h.leftovers()).toEqual([`1 mounts under ${h.root}`]);
    ok(h, "vserver", "k1", "start");
    expect(ok(h, "vserver", "k1", "exec", "cat", "/marker")).toBe("k1 marker\n");
    ok(h, "vserver", "k1", "stop");
  });

  test("a full disk during hashify and unify -R changes nothing", () => {
    const unified = existsSync(`${h.root}/vservers/.unify/guests/k1/current`);
    if (unified) ok(h, "vserver", "k1", "unify", "-R");
    const r = h.run("vserver", ["k1", "hashify"], { env: { VSERVER_FAULT: "unify.after-generation:enospc" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^vserver: hashify of 'k1' ran out of space on the file system of \S+ \(xfs on .*\); the guest was left as it was\.\n$/);
    // Nothing half-made is left for the next command to find.
    expect(existsSync(`${h.root}/vservers/.unify/guests/k1`)).toBe(false);
    expect(readFileSync(`${h.vdir("k1")}/marker`, "utf8")).toBe("k1 marker\n");
    ok(h, "vserver", "k1", "hashify");
    const d = h.run("vserver", ["k1", "unify", "-R"], { env: { VSERVER_FAULT: "unify.before-plain-rename:enospc" } });
    expect(d.code).toBe(1);
    expect(d.stderr).toContain("unify -R of 'k1' ran out of space");
    expect(readdirSync(`${h.root}/vservers/.unify/guests/k1`).sort()).toEqual(["current", "gen-1"]);
    ok(h, "vserver", "k1", "start");
    expect(ok(h, "vserver", "k1", "exec", "cat", "/marker")).toBe("k1 marker\n");
    ok(h, "vserver", "k1", "stop");
  });

  test("files put into a unified guest's empty root directory never make it plain", () => {
    if (!existsSync(`${h.root}/vservers/.unify/guests/k1/current`)) ok(h, "vserver", "k1", "hashify");
    writeFileSync(`${h.vdir("k1")}/stray`, "put here by a hook\n");
    ok(h, "vserver", "k1", "start");
    expect(ok(h, "vserver", "k1", "exec", "cat", "/marker")).toBe("k1 marker\n");
    ok(h, "vserver", "k1", "stop");
    expect(existsSync(`${h.root}/vservers/.unify/guests/k1/current`)).toBe(true);
    const r = h.vserver("k1", "unify", "-R");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^vserver: the root directory \S+ of unified guest 'k1' holds files of its own .*run 'unify -R' again\.\n$/);
    Bun.spawnSync(["rm", `${h.vdir("k1")}/stray`]);
  });

  test("kill -9 during gc", () => {
    ok(h, "vserver", "k1", "delete", "--force");
    const r = h.run("vhashify", ["--gc"], { env: { VSERVER_FAULT: "unify.gc-remove:kill" } });
    expect(KILLED).toContain(r.code);
    ok(h, "vserver", "u1", "start");
    expect(h.inGuest("u1", "sh", "-c", "find / -xdev -type f -exec cat {} + > /dev/null").code).toBe(0);
    ok(h, "vserver", "u1", "stop");
    ok(h, "vhashify", "--gc");
    expect(storeDamage()).toEqual([]);
  });
});

describe("delete", () => {
  test("refuses a guest whose vdir names the pool or a place inside it", () => {
    for (const [name, target] of [["v1", `${h.root}/vservers/.unify`], ["v2", `${h.root}/vservers/.unify/store`]] as const) {
      busyboxGuest(h, name);
      const vdir = `${h.cfg(name)}/vdir`;
      Bun.spawnSync(["rm", vdir]);
      Bun.spawnSync(["ln", "-s", target, vdir]);
      const r = h.vserver(name, "delete", "--force");
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("the unification pool");
      expect(storeDamage()).toEqual([]);
      expect(objectCount()).toBeGreaterThan(0);
      // Put back, so that the cleanup removes only the guest's own tree.
      Bun.spawnSync(["rm", vdir]);
      Bun.spawnSync(["ln", "-s", h.vdir(name), vdir]);
      ok(h, "vserver", name, "delete", "--force");
    }
  });
});

describe("setattr and showattr", () => {
  test("immutable and append-only are set, shown and cleared; util-vserver's others are refused with the reason", () => {
    const d = `${h.root}/attrs`;
    mkdirSync(`${d}/sub`, { recursive: true });
    writeFileSync(`${d}/sub/f`, "a\n");
    Bun.spawnSync(["ln", "-s", "/etc/passwd", `${d}/sub/link`]);
    try {
      ok(h, "setattr", "--immutable", `${d}/sub/f`);
      expect(ok(h, "showattr", "-R", d)).toBe(`------i--a ${d}\n------i--a ${d}/sub\n------I--a ${d}/sub/f\n`);
      expect(() => writeFileSync(`${d}/sub/f`, "b\n", { flag: "a" })).toThrow();
      ok(h, "setattr", "--~immu", "--append", `${d}/sub/f`);
      expect(ok(h, "showattr", `${d}/sub/f`)).toBe(`------i--A ${d}/sub/f\n`);
      const r = h.run("setattr", ["--iunlink", `${d}/sub/f`]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^setattr: --iunlink: a unified file is no longer immutable-but-unlinkable: .*nothing to set\.\n$/);
      const l = h.run("setattr", ["--immutable", `${d}/sub/link`]);
      expect(l.code).toBe(1);
      expect(l.stderr).toContain("is a symbolic link");
      expect(lstatSync("/etc/passwd").mode).toBeDefined();
      expect(ok(h, "showattr", "/etc/passwd")).toBe("------i--a /etc/passwd\n");
    } finally {
      h.run("setattr", ["--~immutable", "--~append", `${d}/sub/f`]);
      Bun.spawnSync(["rm", "-rf", d]);
    }
  });
});

describe("disk limits", () => {
  test("a guest with dlimits/ is told at start why it runs without them, and vdlimit says the same", () => {
    busyboxGuest(h, "d1", { "dlimits/root/directory": "/\n", "dlimits/root/space_total": "10240\n", "dlimits/root/inodes_total": "1000\n", "dlimits/root/reserved": "5\n" });
    const r = h.vserver("d1", "start");
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^vserver: warning: \S+\/dlimits: disk limits are not available on this host, because .+; guest 'd1' runs without them\.$/m);
    // This machine's kernel has no XFS quota support (feasibility §3.1): the reason says so.
    if (!existsSync("/proc/fs/xfs/xqmstat")) expect(r.stderr).toContain("this kernel has no XFS quota support");
    ok(h, "vserver", "d1", "stop");
    const v = h.run("vdlimit", ["--xid", "d1", `${h.root}/vservers`]);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/^vdlimit: disk limits are not available on this host, because .+\.\n$/);
    ok(h, "vserver", "d1", "delete", "--force");
  });
});

describe("storage that cannot serve", () => {
  test("hashify on a file system whose inodes cannot hold the overlay's attributes refuses, in one sentence", () => {
    busyboxGuest(plainHost, "e1");
    const before = readdirSync(plainHost.vdir("e1")).sort();
    const r = plainHost.vserver("e1", "hashify");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^vserver: the unification pool \S+ is on \S+ on \S+, mounted at \S+, whose inodes are too small .*mkfs\.ext4 -I 512'\.\n$/);
    expect(readdirSync(plainHost.vdir("e1")).sort()).toEqual(before);
    expect(existsSync(`${plainHost.root}/vservers/.unify/guests/e1`)).toBe(false);
  });

  test("build --unified there refuses before anything is made", () => {
    const r = plainHost.vserver("e2", "build", "-m", "busybox", "--unified");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("inodes are too small");
    expect(existsSync(plainHost.cfg("e2"))).toBe(false);
    expect(existsSync(plainHost.vdir("e2"))).toBe(false);
  });
});

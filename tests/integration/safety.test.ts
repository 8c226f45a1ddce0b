// Data safety of `delete`: a `vdir` link that names more than the guest's own root (the base of
// all roots, `.` aliases of it, another guest's root, the state root, a system directory) is
// refused before anything is touched; a real delete removes through what it opened, never follows
// a link out of the root, and never removes what is mounted inside it.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { TestHost, busyboxGuest, BIN } from "../helpers/host";

const h = new TestHost("safety");
afterAll(() => h.cleanup());

/** A guest that is only a config directory whose vdir links to `target`. */
function linkedGuest(name: string, target: string): void {
  mkdirSync(h.cfg(name), { recursive: true });
  symlinkSync(target, `${h.cfg(name)}/vdir`);
}

function forget(name: string): void {
  rmSync(h.cfg(name), { recursive: true, force: true });
}

describe("delete refuses a root that is not the guest's alone", () => {
  beforeAll(() => {
    busyboxGuest(h, "keep1");
    busyboxGuest(h, "keep2");
    writeFileSync(`${h.vdir("keep1")}/precious`, "data\n");
  });

  const intact = () => {
    expect(readFileSync(`${h.vdir("keep1")}/precious`, "utf8")).toBe("data\n");
    expect(existsSync(`${h.vdir("keep2")}/bin/busybox`)).toBe(true);
    expect(existsSync(`${h.cfg("keep1")}/context`)).toBe(true);
  };

  const cases: Array<[string, () => string, RegExp]> = [
    ["the base directory of guest roots (trailing slash)", () => `${h.root}/vservers/`, /is the base directory of guest roots/],
    ["the base directory through `.`", () => `${h.root}/vservers/.`, /is the base directory of guest roots/],
    ["the state root", () => `${h.root}/`, /is the state root|holds/],
    ["the state root through `..`", () => `${h.root}/vservers/..`, /is the state root/],
    ["another guest's root", () => h.vdir("keep1"), /root of guest 'keep1'/],
    ["a directory inside another guest's root", () => `${h.vdir("keep1")}/etc`, /inside the root of guest 'keep1'/],
    ["the config base", () => h.confDir, /is the config directory/],
    ["another guest's config", () => h.cfg("keep2"), /config of guest 'keep2'|inside the config directory/],
  ];
  for (const [what, target, why] of cases) {
    test(what, () => {
      linkedGuest("bad", target());
      try {
        const r = h.vserver("bad", "delete", "--force");
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain(`${h.cfg("bad")}/vdir`);
        expect(r.stderr).toMatch(why);
        expect(r.stderr.trim().split("\n").length).toBe(1);
        intact();
        expect(existsSync(h.cfg("bad"))).toBe(true); // nothing was changed
      } finally {
        forget("bad");
      }
    });
  }

  test("the directory that holds another guest's root, found through that guest's vdir link", () => {
    // The other guest's root is not under the base directory: only its vdir link says where it is.
    const away = `${h.root}/elsewhere`;
    mkdirSync(`${away}/keep3`, { recursive: true });
    writeFileSync(`${away}/keep3/precious`, "data\n");
    linkedGuest("keep3", `${away}/keep3`);
    linkedGuest("bad", away);
    try {
      const r = h.vserver("bad", "delete", "--force");
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`holds the root of guest 'keep3' (${away}/keep3)`);
      expect(readFileSync(`${away}/keep3/precious`, "utf8")).toBe("data\n");
    } finally {
      forget("bad");
      forget("keep3");
      rmSync(away, { recursive: true, force: true });
    }
  });

  // System directories: run in a mount namespace of its own where the directory is an empty
  // tmpfs, so that even a delete without the protection could not touch the host's.
  for (const dir of ["/srv", "/usr/share/doc", "/var/lib"]) {
    test(`a system directory (${dir})`, () => {
      linkedGuest("sys", dir);
      try {
        const p = Bun.spawnSync(["unshare", "--mount", "--propagation", "private", "sh", "-c",
          `mount -t tmpfs vst-safety ${dir} && touch ${dir}/marker && ${BIN}/vserver sys delete --force; s=$?; test -e ${dir}/marker || echo MARKER-GONE; exit $s`], { env: h.env, stdout: "pipe", stderr: "pipe" });
        const r = { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
        expect(r.code).not.toBe(0);
        expect(r.stdout).not.toContain("MARKER-GONE");
        expect(r.stderr).toContain(`${h.cfg("sys")}/vdir`);
        expect(r.stderr).toMatch(/system directory|not below a directory of its own/);
      } finally {
        forget("sys");
      }
    });
  }
});

describe("a delete that goes ahead", () => {
  const outside = `${h.root}/outside`;
  beforeAll(() => {
    mkdirSync(outside);
    writeFileSync(`${outside}/host-file`, "host\n");
  });

  test("removes links in the root, never what they point at, and the guest's logs", () => {
    busyboxGuest(h, "links");
    h.ok("links", "start");
    // The guest plants links to the host's files (paths it has learnt are just strings).
    expect(h.inGuest("links", "sh", "-c", `ln -s ${outside} /escape && ln -s ${outside}/host-file /etc/f && mkdir -p /deep/a/b && ln -s ${outside} /deep/a/b/up`).code).toBe(0);
    expect(existsSync(`${h.logDir}/links.log`)).toBe(true);
    h.ok("links", "delete", "--force");
    expect(existsSync(h.vdir("links"))).toBe(false);
    expect(existsSync(h.cfg("links"))).toBe(false);
    expect(existsSync(`${h.logDir}/links.log`)).toBe(false);
    expect(existsSync(`${h.logDir}/links.build.log`)).toBe(false);
    expect(readFileSync(`${outside}/host-file`, "utf8")).toBe("host\n");
    // The journal keeps the guest's history.
    expect(readFileSync(`${h.logDir}/events.log`, "utf8")).toMatch(/"op":"delete","guest":"links","ok":true/);
  });

  test("a root with a mount in it is refused, naming the mount, and removed once it is gone", () => {
    busyboxGuest(h, "mnt");
    const point = `${h.vdir("mnt")}/srv`;
    mkdirSync(point, { recursive: true });
    expect(Bun.spawnSync(["mount", "--bind", outside, point]).exitCode).toBe(0);
    try {
      const r = h.vserver("mnt", "delete", "--force");
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(point);
      expect(r.stderr).toMatch(/unmount/);
      expect(readFileSync(`${outside}/host-file`, "utf8")).toBe("host\n");
      expect(existsSync(`${h.vdir("mnt")}/bin/busybox`)).toBe(true);
    } finally {
      Bun.spawnSync(["umount", point]);
    }
    h.ok("mnt", "delete", "--force");
    expect(existsSync(h.vdir("mnt"))).toBe(false);
    expect(readdirSync(outside)).toEqual(["host-file"]);
  });

  test("a root reached through a link is removed, the link's directory of roots is not", () => {
    const base = `${h.root}/elsewhere`;
    mkdirSync(`${base}/roots`, { recursive: true });
    busyboxGuest(h, "moved");
    expect(Bun.spawnSync(["mv", h.vdir("moved"), `${base}/roots/moved`]).exitCode).toBe(0);
    rmSync(`${h.cfg("moved")}/vdir`, { force: true });
    symlinkSync(`${base}/roots/moved/`, `${h.cfg("moved")}/vdir`);
    h.ok("moved", "delete", "--force");
    expect(existsSync(`${base}/roots/moved`)).toBe(false);
    expect(existsSync(`${base}/roots`)).toBe(true);
  });
});

describe("config values at start", () => {
  beforeAll(() => busyboxGuest(h, "cv"));
  const set = (rel: string, content: string) => {
    const p = `${h.cfg("cv")}/${rel}`;
    mkdirSync(p.slice(0, p.lastIndexOf("/")), { recursive: true });
    writeFileSync(p, content);
  };
  const unset = (rel: string) => rmSync(`${h.cfg("cv")}/${rel}`, { recursive: true, force: true });
  const failsNaming = (file: string, why: RegExp) => {
    const r = h.vserver("cv", "start");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(why);
    expect(h.vserver("cv", "running").code).not.toBe(0);
    expect(h.leftovers()).toEqual([]);
  };

  test("rlimits/nproc = 0 is refused, not a guest without a process limit", () => {
    set("rlimits/nproc", "0\n");
    try {
      failsNaming(`${h.cfg("cv")}/rlimits/nproc`, /0 is not a limit here/);
    } finally {
      unset("rlimits/nproc");
    }
  });

  test("vlimit refuses 0 for a whole-guest limit, as the config does", () => {
    h.ok("cv", "start");
    try {
      const r = h.run("vlimit", ["--xid", "cv", "--nproc", "0", "--save"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/--nproc: 0 is not a limit/);
      expect(existsSync(`${h.cfg("cv")}/rlimits/nproc`)).toBe(false);
    } finally {
      h.ok("cv", "stop");
    }
  });

  test("rlimits/nproc = 1: the guest init's failed fork is reported as such", () => {
    set("rlimits/nproc", "1\n");
    try {
      failsNaming(`${h.cfg("cv")}/rlimits/nproc`, /could not fork to run its start command \(EAGAIN/);
    } finally {
      unset("rlimits/nproc");
    }
  });

  test("a context that is a link to a good file is followed; a directory or FIFO is refused", () => {
    const ctx = readFileSync(`${h.cfg("cv")}/context`, "utf8").trim();
    writeFileSync(`${h.root}/ctx-elsewhere`, "40077\n");
    rmSync(`${h.cfg("cv")}/context`);
    symlinkSync(`${h.root}/ctx-elsewhere`, `${h.cfg("cv")}/context`);
    try {
      h.ok("cv", "start");
      expect(h.vserver("cv", "status").stdout).toMatch(/context '40077'/);
      h.ok("cv", "stop");
      rmSync(`${h.cfg("cv")}/context`);
      mkdirSync(`${h.cfg("cv")}/context`);
      failsNaming(`${h.cfg("cv")}/context`, /is a directory/);
      rmSync(`${h.cfg("cv")}/context`, { recursive: true });
      expect(Bun.spawnSync(["mkfifo", `${h.cfg("cv")}/context`]).exitCode).toBe(0);
      failsNaming(`${h.cfg("cv")}/context`, /is a FIFO/);
    } finally {
      rmSync(`${h.cfg("cv")}/context`, { recursive: true, force: true });
      writeFileSync(`${h.cfg("cv")}/context`, `${ctx}\n`);
    }
  });

  test("host names with control characters or invalid UTF-8 are refused", () => {
    try {
      set("uts/nodename", "web\x1b[2J\n");
      failsNaming(`${h.cfg("cv")}/uts/nodename`, /is not a host name/);
      writeFileSync(`${h.cfg("cv")}/uts/nodename`, Buffer.from([0x77, 0xff, 0x0a]));
      failsNaming(`${h.cfg("cv")}/uts/nodename`, /binary data/);
      set("uts/domainname", "ex\x01ample\n");
      unset("uts/nodename");
      failsNaming(`${h.cfg("cv")}/uts/domainname`, /is not a host name/);
    } finally {
      unset("uts/nodename");
      unset("uts/domainname");
    }
  });

  test("a bad fstab option names fstab and its line, and leaves no mount point in the root", () => {
    const before = readdirSync(h.vdir("cv")).sort();
    set("fstab", "none /proc proc defaults 0 0\nnone /srv/vst-new tmpfs size=bogus 0 0\n");
    try {
      failsNaming(`${h.cfg("cv")}/fstab line 2`, /\/srv\/vst-new/);
      expect(existsSync(`${h.vdir("cv")}/srv/vst-new`)).toBe(false);
      expect(readdirSync(h.vdir("cv")).sort()).toEqual(before);
    } finally {
      unset("fstab");
    }
    h.ok("cv", "start");
    h.ok("cv", "stop");
  });

  test("a failed start with vdir on the config directory leaves no mount points there", () => {
    mkdirSync(h.cfg("cfgroot"), { recursive: true });
    symlinkSync(h.cfg("cfgroot"), `${h.cfg("cfgroot")}/vdir`);
    try {
      const before = readdirSync(h.cfg("cfgroot")).sort();
      const r = h.vserver("cfgroot", "start");
      expect(r.code).not.toBe(0);
      expect(readdirSync(h.cfg("cfgroot")).sort()).toEqual(before);
      expect(h.leftovers()).toEqual([]);
    } finally {
      forget("cfgroot");
    }
  });
});

describe("delete works on what it opened", () => {
  test("a path swapped under a running delete does not redirect it", async () => {
    // The guest root is reached through a directory of roots; while delete is paused after its
    // checks, that directory is moved away and a link to a victim directory put in its place.
    const roots = `${h.root}/roots`;
    const victim = `${h.root}/victim`;
    mkdirSync(`${victim}/swapped`, { recursive: true });
    writeFileSync(`${victim}/swapped/precious`, "keep\n");
    mkdirSync(roots);
    busyboxGuest(h, "swapped");
    expect(Bun.spawnSync(["mv", h.vdir("swapped"), `${roots}/swapped`]).exitCode).toBe(0);
    rmSync(`${h.cfg("swapped")}/vdir`);
    symlinkSync(`${roots}/swapped`, `${h.cfg("swapped")}/vdir`);
    const p = Bun.spawn([`${BIN}/vserver`, "swapped", "delete", "--force"], {
      // A direct run, so that the process that stops itself is the one this test can see.
      env: { ...h.env, VSERVER_SERVICE: "off", VSERVER_FAULT: "delete.after-teardown:stop" }, stdout: "pipe", stderr: "pipe",
    });
    try {
      // Wait until it has stopped itself at the fault point.
      for (let i = 0; i < 200; i++) {
        const st = readFileSync(`/proc/${p.pid}/stat`, "utf8");
        if (st.slice(st.lastIndexOf(")") + 2).startsWith("T")) break;
        await Bun.sleep(50);
      }
      expect(Bun.spawnSync(["mv", roots, `${roots}.moved`]).exitCode).toBe(0);
      symlinkSync(victim, roots);
    } finally {
      process.kill(p.pid, "SIGCONT");
    }
    await p.exited;
    expect(readFileSync(`${victim}/swapped/precious`, "utf8")).toBe("keep\n");
    // What it opened was emptied; the name now leads elsewhere, so the empty directory stays.
    expect(readdirSync(`${roots}.moved/swapped`)).toEqual([]);
    expect(existsSync(h.cfg("swapped"))).toBe(false);
  });
});

// The build methods that bring a tree from elsewhere: rsync (a directory or another guest's
// root, copied faithfully), legacy (the host's own system without its secrets) and oci (a
// container image: an OCI layout or a docker archive, layers applied inside the new root only).
// Each builds a real guest that starts, and each method's bad input leaves nothing behind.

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync, linkSync, copyFileSync, chownSync, chmodSync } from "node:fs";
import { TestHost } from "../helpers/host";
import { tarLayer, writeLayout, type TarMember } from "../helpers/oci-image";
import { rsyncTree } from "../../src/drivers/build/rsync-tree";
import { legacyRules, LEGACY_SECRETS } from "../../src/pure/legacy-host";

const h = new TestHost("build-methods");
const diskMount = `${h.root}/small-disk`;
afterAll(() => {
  if (existsSync(diskMount)) for (let i = 0; i < 50 && Bun.spawnSync(["umount", diskMount]).exitCode !== 0; i++) Bun.sleepSync(100);
  h.cleanup();
});

const sh = (...argv: string[]) => {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString();
};

/** Nothing of a build of NAME is left: no config, no root, no temporary tree or scratch layout. */
function nothingLeft(name: string, rootBase = `${h.root}/vservers`) {
  expect(existsSync(h.cfg(name))).toBe(false);
  expect(existsSync(`${rootBase}/${name}`)).toBe(false);
  const hidden = [h.confDir, rootBase].flatMap((d) => (existsSync(d) ? readdirSync(d) : [])).filter((f) => f.startsWith(`.${name}.build-`));
  expect(hidden).toEqual([]);
}

/** A guest with none of the sysv rc scripts starts with this command and stays up under our init. */
function startable(name: string) {
  mkdirSync(`${h.cfg(name)}/apps/init`, { recursive: true });
  writeFileSync(`${h.cfg(name)}/apps/init/cmd.start`, "/bin/busybox\ntrue\n");
}

describe("rsync", () => {
  const src = `${h.root}/rsync-src`;

  test("copies a tree faithfully: owners, hard links, ACLs, xattrs, capabilities, devices, sparse files", () => {
    mkdirSync(`${src}/bin`, { recursive: true });
    mkdirSync(`${src}/etc`);
    mkdirSync(`${src}/data`);
    copyFileSync("/bin/busybox", `${src}/bin/busybox`);
    chmodSync(`${src}/bin/busybox`, 0o755);
    symlinkSync("busybox", `${src}/bin/sh`);
    writeFileSync(`${src}/data/owned`, "owned\n");
    chownSync(`${src}/data/owned`, 1234, 5678);
    chmodSync(`${src}/data/owned`, 0o2750);
    writeFileSync(`${src}/data/a`, "linked\n");
    linkSync(`${src}/data/a`, `${src}/data/b`);
    sh("setfattr", "-n", "user.vserver-test", "-v", "kept", `${src}/data/a`);
    sh("setfacl", "-m", "u:4321:r", `${src}/data/owned`);
    copyFileSync("/bin/busybox", `${src}/bin/pinger`);
    sh("setcap", "cap_net_raw+ep", `${src}/bin/pinger`);
    sh("mknod", `${src}/data/null`, "c", "1", "3");
    sh("truncate", "-s", "64M", `${src}/data/sparse`);
    symlinkSync("/etc/shadow", `${src}/data/abs-link`);

    const r = h.ok("rs", "build", "-m", "rsync", "-q", "--", "-s", src, "--exclude", "/etc/skipped");
    expect(r.stderr).toMatch(/no \/etc\/init\.d\/rc/);
    const d = h.vdir("rs");
    const st = statSync(`${d}/data/owned`);
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([1234, 5678, 0o2750]);
    expect(statSync(`${d}/data/a`).ino).toBe(statSync(`${d}/data/b`).ino);
    expect(sh("getfattr", "--only-values", "-n", "user.vserver-test", `${d}/data/a`)).toBe("kept");
    expect(sh("getfacl", "-cn", `${d}/data/owned`)).toMatch(/^user:4321:r--$/m);
    expect(sh("getcap", `${d}/bin/pinger`)).toMatch(/cap_net_raw[=+]ep/);
    const dev = statSync(`${d}/data/null`);
    expect(dev.isCharacterDevice() && dev.rdev).toBe(statSync("/dev/null").rdev);
    expect(statSync(`${d}/data/sparse`).size).toBe(64 * 1024 * 1024);
    expect(statSync(`${d}/data/sparse`).blocks).toBeLessThan(1024);
    expect(lstatSync(`${d}/data/abs-link`).isSymbolicLink()).toBe(true);
    expect(readFileSync(`${d}/etc/hostname`, "utf8")).toBe("rs\n");
    // The guest starts from the copy.
    startable("rs");
    h.ok("rs", "start");
    try {
      expect(h.inGuest("rs", "/bin/busybox", "cat", "/data/a").stdout).toBe("linked\n");
    } finally {
      h.ok("rs", "stop");
    }
  });

  test("--exclude leaves a path out", () => {
    writeFileSync(`${src}/etc/skip-me`, "no\n");
    h.ok("rsx", "build", "-m", "rsync", "-q", "--", "-s", src, "--exclude", "/etc/skip-me");
    expect(existsSync(`${h.vdir("rsx")}/etc/skip-me`)).toBe(false);
    expect(existsSync(`${h.vdir("rsx")}/data/a`)).toBe(true);
  });

  test("from another guest: its root, not its config; a running one is copied with a warning", () => {
    h.ok("rsbb", "build", "-m", "busybox", "-q");
    writeFileSync(`${h.cfg("rsbb")}/nice`, "3\n");
    writeFileSync(`${h.vdir("rsbb")}/root/data`, "from rsbb\n");
    h.ok("rsbb", "start");
    try {
      const r = h.ok("rsg", "build", "-m", "rsync", "-q", "--", "-s", "rsbb");
      expect(r.stderr).toMatch(/guest 'rsbb' is running: its files may change while they are copied/);
    } finally {
      h.ok("rsbb", "stop");
    }
    expect(readFileSync(`${h.vdir("rsg")}/root/data`, "utf8")).toBe("from rsbb\n");
    expect(existsSync(`${h.cfg("rsg")}/nice`)).toBe(false);
    expect(readFileSync(`${h.cfg("rsg")}/context`, "utf8")).not.toBe(readFileSync(`${h.cfg("rsbb")}/context`, "utf8"));
    h.ok("rsg", "start");
    try {
      expect(h.inGuest("rsg", "hostname").stdout.trim()).toBe("rsg");
    } finally {
      h.ok("rsg", "stop");
    }
  });

  test("a full disk fails the copy naming where, and keeps nothing", () => {
    mkdirSync(diskMount);
    expect(Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0755", "vst-build-disk", diskMount]).exitCode).toBe(0);
    const big = `${h.root}/big-src`;
    mkdirSync(big);
    writeFileSync(`${big}/filler`, new Uint8Array(16 * 1024 * 1024).fill(7));
    const r = h.vserver("rsfull", "build", "-m", "rsync", "-q", "--rootdir", diskMount, "--", "-s", big);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ran out of space writing .*small-disk.*nothing was kept/);
    expect(r.stderr.trim().split("\n").length).toBe(1);
    nothingLeft("rsfull", diskMount);
  });
});

describe("legacy", () => {
  // The host here is large (/usr/lib alone is GBs): the test keeps the copy small with the
  // method's own rules, keeping busybox so that the guest has something to run.
  const bounded = [
    "--include", "/usr/bin/busybox",
    ...["/usr/bin/*", "/usr/sbin/*", "/usr/lib/*", "/usr/lib32/*", "/usr/libx32/*", "/usr/share/*", "/usr/local/*", "/usr/include/*", "/usr/libexec/*", "/usr/src/*", "/var/cache/*", "/var/lib/postgresql", "/var/cache/vservers-test"]
      .flatMap((p) => ["--exclude", p]),
  ];

  test("a copy of the host's system without its secrets, mounts and guests, that starts", () => {
    const r = h.ok("lg", "build", "-m", "legacy", "-q", "--", ...bounded);
    expect(r.stderr).toMatch(/no \/etc\/init\.d\/rc/);
    const d = h.vdir("lg");
    // The host's system is there, its own identity is not.
    expect(readFileSync(`${d}/etc/debian_version`, "utf8")).toBe(readFileSync("/etc/debian_version", "utf8"));
    expect(readFileSync(`${d}/etc/hostname`, "utf8")).toBe("lg\n");
    expect(readFileSync("/etc/machine-id", "utf8").trim()).not.toBe("");
    expect(readFileSync(`${d}/etc/machine-id`, "utf8")).toBe("");
    expect(existsSync(`${d}/var/lib/dbus/machine-id`)).toBe(false);
    for (const f of (existsSync("/etc/ssh") ? readdirSync("/etc/ssh") : []).filter((f) => f.startsWith("ssh_host_"))) expect(existsSync(`${d}/etc/ssh/${f}`)).toBe(false);
    for (const line of readFileSync(`${d}/etc/shadow`, "utf8").split("\n").filter(Boolean)) expect(line.split(":")[1]).toBe("*");
    expect(statSync(`${d}/etc/shadow`).mode & 0o777).toBe(statSync("/etc/shadow").mode & 0o777);
    // Empty: mounts of the host, its users' homes, root's files.
    for (const dir of ["proc", "sys", "dev", "run", "tmp", "home", "root"]) expect(readdirSync(`${d}/${dir}`)).toEqual([]);
    expect(statSync(`${d}/tmp`).mode & 0o7777).toBe(0o1777);
    // Nothing of this installation or of the host's other trees.
    expect(existsSync(`${d}/work`)).toBe(false);
    expect(readdirSync(`${d}/opt`)).toEqual([]);
    expect(existsSync(`${d}/usr/lib/modules`)).toBe(false);
    expect(readdirSync(`${d}/var/log`).every((f) => statSync(`${d}/var/log/${f}`).isDirectory())).toBe(true);
    startable("lg");
    h.ok("lg", "start");
    try {
      expect(h.inGuest("lg", "/bin/busybox", "hostname").stdout.trim()).toBe("lg");
      expect(h.inGuest("lg", "/bin/busybox", "cat", "/etc/machine-id").stdout).toBe("");
    } finally {
      h.ok("lg", "stop");
    }
  });

  test("every secret on the list stays out of the copy, whatever the admin's rules", async () => {
    // The same rules and rsync as the method, over a made-up host that has every secret.
    const host = `${h.root}/fake-host`;
    // Written out here rather than taken from the method's list, so that dropping an entry fails.
    const paths = [
      "/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_rsa_key.pub", "/etc/ssl/private/host.key", "/etc/krb5.keytab",
      "/etc/shadow-", "/etc/gshadow-", "/var/backups/shadow.bak", "/etc/machine-id", "/var/lib/dbus/machine-id",
      "/var/lib/systemd/random-seed", "/var/lib/systemd/credential.secret", "/var/lib/urandom/random-seed",
      "/etc/NetworkManager/system-connections/home.nmconnection", "/etc/wireguard/wg0.conf",
      "/var/spool/cron/crontabs/root", "/var/mail/root", "/var/spool/mail/bob",
    ];
    expect(paths.length).toBeGreaterThanOrEqual(LEGACY_SECRETS.length);
    for (const p of [...paths, "/etc/keep", "/var/lib/docker/x", "/etc/vservers/g/context"]) {
      mkdirSync(`${host}${p.slice(0, p.lastIndexOf("/"))}`, { recursive: true });
      writeFileSync(`${host}${p}`, "secret\n");
    }
    const dest = `${h.root}/fake-copy`;
    mkdirSync(dest);
    const adminRules = paths.map((p) => ({ kind: "include" as const, pattern: p }));
    await rsyncTree({ what: "a made-up host", src: host, dest, filter: legacyRules({ stateDirs: [], adminRules }), log: `${h.root}/fake.log`, quiet: true });
    expect(readFileSync(`${dest}/etc/keep`, "utf8")).toBe("secret\n");
    for (const p of [...paths, "/var/lib/docker/x", "/etc/vservers/g/context"]) expect(existsSync(`${dest}${p}`)).toBe(false);
    expect(existsSync(`${dest}/etc/ssl/private`)).toBe(true);
  });
});

describe("oci", () => {
  const layout = `${h.root}/images`;
  const outside = `${h.root}/outside`;
  const busybox = new Uint8Array(readFileSync("/bin/busybox"));
  const base: TarMember[] = [
    { name: "bin/", type: "dir" },
    { name: "bin/busybox", data: busybox, mode: 0o755 },
    { name: "bin/sh", type: "symlink", link: "busybox" },
    { name: "etc/", type: "dir" },
    { name: "etc/gone", data: "removed by the next layer\n" },
    { name: "etc/kept", data: "kept\n", uid: 1234, gid: 1234, mode: 0o600 },
    { name: "data/", type: "dir" },
    { name: "data/old", data: "old\n" },
  ];
  const second: TarMember[] = [
    { name: "etc/.wh.gone", data: "" },
    { name: "etc/new", data: "from layer 2\n" },
    { name: "data/", type: "dir" },
    { name: "data/.wh..wh..opq", data: "" },
    { name: "data/fresh", data: "fresh\n" },
  ];
  const command = ["/bin/busybox", "sh", "-c", "trap 'exit 0' TERM; while :; do /bin/busybox sleep 1; done"];

  test("an image layout: layers applied in order, whiteouts and opaque directories honoured", () => {
    mkdirSync(outside, { recursive: true });
    writeFileSync(`${outside}/victim`, "untouched\n");
    writeLayout(layout, [
      { tag: "app", layers: [tarLayer(base), tarLayer(second)], config: { Env: ["GREETING=hi"], Entrypoint: [command[0]], Cmd: command.slice(1) } },
      {
        tag: "evil",
        layers: [
          tarLayer(base),
          tarLayer([
            { name: "../escape-dotdot", data: "pwn\n" },
            { name: `${outside}/absolute`, data: "pwn\n" },
            { name: "evil", type: "symlink", link: outside },
            { name: "evil/through-link", data: "pwn\n" },
            { name: "rel", type: "symlink", link: "../../../../../../../../.." + outside },
            { name: "rel/through-relative-link", data: "pwn\n" },
          ]),
          tarLayer([{ name: "evil/.wh.victim", data: "" }]),
        ],
      },
      { tag: "evil-hardlink", layers: [tarLayer(base), tarLayer([{ name: "hard", type: "hardlink", link: `${outside}/victim` }])] },
    ]);
    h.ok("oc", "build", "-m", "oci", "-q", "--", "-o", `${layout}:app`);
    const d = h.vdir("oc");
    expect(existsSync(`${d}/etc/gone`)).toBe(false);
    expect(readFileSync(`${d}/etc/new`, "utf8")).toBe("from layer 2\n");
    const kept = statSync(`${d}/etc/kept`);
    expect([kept.uid, kept.gid, kept.mode & 0o777]).toEqual([1234, 1234, 0o600]);
    expect(readdirSync(`${d}/data`)).toEqual(["fresh"]);
    expect(readFileSync(`${h.cfg("oc")}/apps/build/oci/image`, "utf8")).toBe(`oci-layout ${layout}:app\n`);
    expect(JSON.parse(readFileSync(`${h.cfg("oc")}/apps/build/oci/config.json`, "utf8")).Env).toEqual(["GREETING=hi"]);
    // Not --initstyle plain: the image's command is kept, not made the guest's init.
    expect(existsSync(`${h.cfg("oc")}/apps/init/cmd.start`)).toBe(false);
  });

  test("with --initstyle plain the image's command is the guest's PID 1", () => {
    h.ok("ocp", "build", "-m", "oci", "-q", "--initstyle", "plain", "--", "-o", `${layout}:app`);
    expect(readFileSync(`${h.cfg("ocp")}/apps/init/cmd.start`, "utf8")).toBe(command.join("\n") + "\n");
    h.ok("ocp", "start");
    try {
      expect(h.inGuest("ocp", "/bin/busybox", "cat", "/proc/1/cmdline").stdout.split("\0").slice(0, 2)).toEqual(["/bin/busybox", "sh"]);
      expect(h.inGuest("ocp", "/bin/busybox", "cat", "/etc/new").stdout).toBe("from layer 2\n");
    } finally {
      h.ok("ocp", "stop");
    }
  });

  test("a docker archive (docker save) gives the same root", () => {
    const archive = `${h.root}/app-docker.tar`;
    sh("skopeo", "copy", "--quiet", `oci:${layout}:app`, `docker-archive:${archive}:vserver-test/app:1`);
    h.ok("ocd", "build", "-m", "oci", "-q", "--", "-a", archive);
    expect(readFileSync(`${h.vdir("ocd")}/etc/new`, "utf8")).toBe("from layer 2\n");
    expect(existsSync(`${h.vdir("ocd")}/etc/gone`)).toBe(false);
    expect(readFileSync(`${h.cfg("ocd")}/apps/build/oci/image`, "utf8")).toBe(`docker-archive ${archive}\n`);
  });

  test("a malicious layer writes nothing outside the new root", () => {
    const before = readdirSync(outside).sort();
    h.ok("oce", "build", "-m", "oci", "-q", "--", "-o", `${layout}:evil`);
    expect(readdirSync(outside).sort()).toEqual(before);
    expect(readFileSync(`${outside}/victim`, "utf8")).toBe("untouched\n");
    expect(existsSync(`${h.root}/vservers/escape-dotdot`)).toBe(false);
    expect(existsSync(`${h.root}/escape-dotdot`)).toBe(false);
    // What the layer named went below the new root.
    const d = h.vdir("oce");
    expect(readFileSync(`${d}${outside}/absolute`, "utf8")).toBe("pwn\n");
    expect(readFileSync(`${d}${outside}/through-link`, "utf8")).toBe("pwn\n");
  });

  test("a hard link to a host file fails the build, leaving nothing and the file untouched", () => {
    const r = h.vserver("och", "build", "-m", "oci", "-q", "--", "-o", `${layout}:evil-hardlink`);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unpacking the image .*evil-hardlink failed: .*hard/);
    expect(r.stderr.trim().split("\n").length).toBe(1);
    expect(readFileSync(`${outside}/victim`, "utf8")).toBe("untouched\n");
    expect(statSync(`${outside}/victim`).nlink).toBe(1);
    nothingLeft("och");
  });
});

describe("bad input names the problem in one line and leaves nothing", () => {
  const bad: Array<[string, string[], RegExp]> = [
    ["rsync without a source", ["-m", "rsync"], /rsync method: -s GUEST\|DIR .* is required/],
    ["rsync of a missing directory", ["-m", "rsync", "--", "-s", "/nonexistent-src"], /the source \/nonexistent-src does not exist/],
    ["rsync of an unknown guest", ["-m", "rsync", "--", "-s", "nobody"], /no guest named 'nobody'/],
    ["rsync of the host's root", ["-m", "rsync", "--", "-s", "/"], /the source is the host's root; use -m legacy/],
    ["rsync of a tree holding the new root", ["-m", "rsync", "--", "-s", "ROOT"], /would be inside the source .*copy itself/],
    ["rsync with an unknown argument", ["-m", "rsync", "--", "-s", "/tmp", "--delete"], /rsync method: unknown argument '--delete'/],
    ["legacy with an unknown argument", ["-m", "legacy", "--", "-s", "/"], /legacy method: unknown argument '-s'/],
    ["oci without an image", ["-m", "oci"], /oci method: -o DIR\[:TAG\] .* or -a FILE .* is required/],
    ["oci of a directory that is no layout", ["-m", "oci", "--", "-o", "/tmp"], /\/tmp is not an OCI image layout/],
    ["oci of a missing archive", ["-m", "oci", "--", "-a", "/nonexistent.tar"], /the archive \/nonexistent.tar does not exist/],
    ["oci of an unknown tag", ["-m", "oci", "--", "-o", "IMAGES:nope"], /has no image tagged 'nope' \(it has: app, evil, evil-hardlink\)/],
    ["oci of a layout with several images and no tag", ["-m", "oci", "--", "-o", "IMAGES"], /holds several images .*name one with -o/],
    ["oci of a file that is no archive", ["-m", "oci", "--", "-a", "/etc/hostname"], /reading the docker archive \/etc\/hostname failed/],
  ];
  for (const [what, args, re] of bad) {
    test(what, () => {
      const r = h.vserver("x1", "build", ...args.map((a) => (a === "ROOT" ? h.root : a.replace(/^IMAGES/, `${h.root}/images`))));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split("\n").length).toBe(1);
      nothingLeft("x1");
    });
  }

  test("the scratch layout of an oci build killed with -9 is removed by the next build of that name", () => {
    // No process has this PID (above the kernel's pid_max), as after a kill -9 of the build.
    const debris = `${h.root}/vservers/.ocik.build-4194305.oci`;
    mkdirSync(`${debris}/blobs`, { recursive: true });
    h.ok("ocik", "build", "-m", "oci", "-q", "--", "-o", `${h.root}/images:app`);
    expect(existsSync(debris)).toBe(false);
  });

  test("rsync from inside the guest being replaced is refused", () => {
    h.ok("self", "build", "-m", "skeleton", "-q");
    const r = h.vserver("self", "build", "-m", "rsync", "--force", "--", "-s", `${h.vdir("self")}/etc`);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the source .*\/self\/etc is inside the new guest's root/);
    expect(existsSync(`${h.vdir("self")}/etc/hostname`)).toBe(true);
  });
});

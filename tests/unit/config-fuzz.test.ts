// Property tests of the config readers with random input (a fixed seed, so a failure reproduces):
// whatever a config directory or a legacy NAME.conf holds, reading it either works or fails with
// a ConfigError that names a file of that config, and a config that reads builds an OCI spec.

import { describe, expect, test } from "bun:test";
import { parseGuestConfig } from "../../src/pure/config/guest-config";
import { parseInterfaces } from "../../src/pure/config/interfaces";
import { legacyOriginOf, legacyToEntries } from "../../src/pure/config/legacy-conf";
import { buildOciSpec } from "../../src/pure/spec/oci-spec";
import { entriesTree, fileTree } from "../../src/pure/config/tree";
import { ConfigError } from "../../src/errors";

/** mulberry32: small, seedable, good enough to pick test inputs. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = [
  "context", "name", "nice", "bcapabilities", "cflags", "flags", "fstab", "shell", "uts/nodename", "uts/domainname",
  "rlimits/nproc", "rlimits/rss", "rlimits/as", "rlimits/nofile", "ulimits/nofile", "ulimits/nproc", "cgroup/cpu.shares",
  "cgroup/memory.limit_in_bytes", "sysctl/0/setting", "sysctl/0/value", "spaces/net", "apps/init/style",
  "apps/init/runlevel", "apps/init/runlevel.start", "apps/init/killseq", "apps/init/cmd.start", "apps/init/cmd.stop",
  "apps/init/environment", "apps/init/mark", "apps/init/depends", "security/seccomp", "security/allow-new-privileges",
  "sched/priority-bias", "interfaces/0/ip", "interfaces/0/prefix", "interfaces/0/dev", "interfaces/0/mask",
  "interfaces/0/mode", "interfaces/0/name", "interfaces/0/gateway", "interfaces/1/ip", "interfaces/dev", "interfaces/prefix",
  "ccapabilities", "personality", "schedule", "uts/sysname", "cpuset/cpus", "unknown/key", "vdir",
];

const ATOMS = [
  "", "\n", "0", "1", "-1", "40000", "49151", "49152", "2", "99999999999999999999", "inf", "INF", "-inf", "1e3", "0x10",
  "3.5", " 12 ", "NET_ADMIN", "~CHOWN", "!SYS_ADMIN", "SYS_PTRACE", "private", "hide_netif", "lock", "fakeinit", "sysv",
  "plain", "gentoo", "bogus", "default", "unconfined", "15 5 9", "TERM", "KILL", "SIGKILL", "x", "/bin/sh", "/sbin/init",
  "PATH=/bin", "A=", "=B", "192.0.2.10", "198.18.0.1/24", "2001:db8::1", "::", "0.0.0.0", "255.255.255.0", "eth0",
  "br0:198.18.1.5", "routed", "bridge", "macvlan", "none", "bogus-mode", "none /tmp tmpfs size=8m 0 0",
  "/srv /var/www none bind,ro 0 0", "proc /proc proc defaults 0 0", "a b", "../x", "web", "db cache", "#comment",
  "\u00e9\u00e8", "\t", "\u0000", "😀", "kernel.shmmax", "4096",
];

function randomValue(r: () => number): string {
  const n = 1 + Math.floor(r() * 3);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(ATOMS[Math.floor(r() * ATOMS.length)]!);
  const sep = r() < 0.5 ? "\n" : " ";
  return parts.join(sep) + (r() < 0.7 ? "\n" : "");
}

function randomFiles(r: () => number): Record<string, string> {
  const files: Record<string, string> = {};
  const n = Math.floor(r() * 8);
  for (let i = 0; i < n; i++) files[KEYS[Math.floor(r() * KEYS.length)]!] = randomValue(r);
  return files;
}

const CFG = "/etc/vservers/fz";

describe("config readers under random input", () => {
  test("a config directory reads, or fails with a ConfigError naming one of its files; one that reads builds a spec", () => {
    const r = rng(20261202);
    let read = 0;
    for (let i = 0; i < 4000; i++) {
      const files = randomFiles(r);
      const defaults = r() < 0.2 ? randomFiles(r) : {};
      let g;
      try {
        g = parseGuestConfig({ name: "fz", cfgDir: CFG, guest: fileTree(files), defaults: fileTree(defaults), vdirBase: "/vservers" });
        parseInterfaces(fileTree(files), CFG);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw new Error(`case ${i} ${JSON.stringify({ files, defaults })}: ${(e as Error).stack}`);
        if (!/^\/etc\/vservers\/(fz|\.defaults)\//.test(e.message)) throw new Error(`case ${i}: the error names no config file: ${e.message}`);
        continue;
      }
      read++;
      const spec = buildOciSpec(g, { cgroupsPath: "/vservers/40000", guestInitPath: "/x/vserver-init", hostMemoryBytes: 8 << 30, arch: "x86_64", args: ["/sbin/init"], ids: { range: { base: 1 << 20, count: 65536 }, root: "/r" } });
      expect(typeof JSON.stringify(spec)).toBe("string");
    }
    // the generator must exercise both outcomes, or the property says nothing
    expect(read).toBeGreaterThan(400);
    expect(read).toBeLessThan(3900);
  });

  test("a legacy NAME.conf is data: any text reads, or fails with a ConfigError naming the file and line; shell code is never taken", () => {
    const r = rng(7);
    const LINES = ["S_CONTEXT=40001", "S_HOSTNAME=web", "S_NICE=5", "S_FLAGS=\"lock fakeinit\"", "ULIMIT=\"-n 100 -u 50\"",
      "ONBOOT=yes", "IPROOT=\"192.0.2.5 198.18.0.2\"", "IPROOTDEV=eth0", "IPROOTMASK=255.255.255.0", "S_CAPS=\"CAP_NET_ADMIN\"",
      "rm -rf /", "S_HOSTNAME=$(hostname)", "X=`id`", "if true; then", "fi", "export S_DOMAINNAME=example.org", "# c", "",
      "S_CONTEXT=abc", "S_NICE=-99", "IPROOT=999.1.1.1", "ULIMIT=\"-n\"", "S_FLAGS='a b c'", "=", "A=\"unterminated",
      "S_CAPS='CAP_NOPE'", "ULIMIT='-HS -c 0 -z 5'", "PRIORITY=3", "IPROOT=eth0:192.0.2.9/99", "S_FLAGS=\"nproc\""];
    const conf = "/etc/vservers/fz.conf";
    let used = 0;
    for (let i = 0; i < 3000; i++) {
      const n = Math.floor(r() * 10);
      const text = Array.from({ length: n }, () => LINES[Math.floor(r() * LINES.length)]).join("\n");
      const res = legacyToEntries(text, conf);
      for (const [rel] of res.entries) expect(rel).not.toMatch(/(^|\/)\.\.(\/|$)|^\//);
      if (/\$\(|`/.test(text)) expect(res.skipped.length).toBeGreaterThan(0);
      for (const s of res.skipped) expect(text.split("\n")[s.line - 1]!.trim()).toBe(s.text);
      for (const w of res.warnings) expect(w.file).toMatch(/^\/etc\/vservers\/fz\.conf:[1-9]\d*$/);
      if (res.skipped.length) continue;
      // What a guest used from its NAME.conf reads (control/guests.ts): errors name the file and line.
      const guest = entriesTree(res.entries);
      try {
        const g = parseGuestConfig({ name: "fz", cfgDir: CFG, guest, defaults: new Map(), vdirBase: "/vservers", legacy: { conf, script: "/etc/vservers/fz.sh", origin: legacyOriginOf(res, conf) } });
        expect(g.legacy?.conf).toBe(conf);
        used++;
      } catch (e) {
        if (!(e instanceof ConfigError)) throw new Error(`case ${i} ${JSON.stringify(text)}: ${(e as Error).stack}`);
        if (!/^\/etc\/vservers\/fz\.conf:[1-9]\d*: [A-Z_]+: /.test(e.message)) throw new Error(`case ${i}: the error names no line of the file: ${e.message}`);
      }
    }
    expect(used).toBeGreaterThan(100);
  });
});

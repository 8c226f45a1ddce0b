import { describe, expect, test } from "bun:test";
import { parseGuestConfig } from "../../src/pure/config/guest-config";
import { fileTree, type ConfigTree } from "../../src/pure/config/tree";
import { applyCapabilityList, DEFAULT_CAPABILITIES } from "../../src/pure/config/capabilities";
import { parseKillSeq } from "../../src/pure/config/killseq";
import { parseFstab } from "../../src/pure/config/fstab";
import { ConfigError } from "../../src/errors";

function guest(files: Record<string, string>, defaults: Record<string, string> = {}, extra?: (t: ConfigTree) => void) {
  const t = fileTree(files);
  extra?.(t);
  return parseGuestConfig({ name: "web", cfgDir: "/etc/vservers/web", guest: t, defaults: fileTree(defaults), vdirBase: "/vservers" });
}

describe("guest config", () => {
  test("apps/init/mark and depends (one or more names a line, comments allowed)", () => {
    const g = guest({ "apps/init/mark": "default\n", "apps/init/depends": "db cache\n# the mail relay\nmail\ndb\n" });
    expect(g.mark).toBe("default");
    expect(g.depends).toEqual(["db", "cache", "mail"]);
    expect(guest({}).depends).toEqual([]);
    expect(() => guest({ "apps/init/depends": "../etc\n" })).toThrow("/etc/vservers/web/apps/init/depends: '../etc' is not a guest name.");
  });

  test("defaults of an empty config", () => {
    const g = guest({});
    expect(g.name).toBe("web");
    expect(g.vdir).toBe("/vservers/web");
    expect(g.nodename).toBe("web");
    expect(g.initStyle).toBe("sysv");
    expect(g.runlevelStart).toBe("3");
    expect([...g.capabilities].sort()).toEqual([...DEFAULT_CAPABILITIES].sort());
    expect(g.pidsLimit).toBe(4096);
    expect(g.memoryLimit).toBeUndefined();
    expect(g.killSeq.map((s) => s.signal)).toEqual(["SIGTERM", "SIGKILL"]);
    expect(g.killSeq[0]!.waitSeconds).toBe(5);
    expect(g.fstab.map((f) => f.target)).toEqual(["/proc", "/tmp", "/dev/pts"]);
    expect(g.seccomp).toBe("default");
    expect(g.noNewPrivileges).toBe(true);
  });

  test("settings from their files", () => {
    const g = guest({
      context: "40123\n",
      "uts/nodename": "www.example\n",
      "uts/domainname": "example\n",
      "apps/init/style": "plain\n",
      "apps/init/killseq": "15\n2\n2\n1\n9\n",
      bcapabilities: "CAP_NET_RAW\n~CHOWN\n# comment\n",
      "rlimits/nproc": "64\n",
      "rlimits/rss": "25600\n",
      "ulimits/nofile.soft": "512\n",
      "ulimits/nofile.hard": "1024\n",
      "cgroup/cpu.shares": "512\n",
      nice: "5\n",
      cflags: "lock\nprivate\n",
    });
    expect(g.context).toBe(40123);
    expect(g.nodename).toBe("www.example");
    expect(g.domainname).toBe("example");
    expect(g.initStyle).toBe("plain");
    expect(g.killSeq.map((s) => [s.signal, s.waitSeconds])).toEqual([["SIGTERM", 2], ["SIGINT", 1], ["SIGKILL", 2]]);
    expect(g.capabilities).toContain("NET_RAW");
    expect(g.capabilities).not.toContain("CHOWN");
    expect(g.pidsLimit).toBe(64);
    expect(g.memoryLimit).toBe(25600 * 4096);
    expect(g.ulimits).toEqual([{ type: "RLIMIT_NOFILE", soft: 512, hard: 1024 }]);
    expect(g.cpuShares).toBe(512);
    expect(g.nice).toBe(5);
    expect([...g.cflags].sort()).toEqual(["lock", "private"]);
  });

  test("CPU weight: cgroup/cpu.shares, else sched/priority-bias, else nice", () => {
    expect(guest({ "cgroup/cpu.shares": "300\n", nice: "10\n" }).cpuShares).toBe(300);
    expect(guest({ "sched/priority-bias": "-5\n" }).cpuShares).toBeGreaterThan(1024);
    expect(guest({ "sched/priority-bias": "5\n" }).cpuShares).toBeLessThan(1024);
    expect(guest({ nice: "10\n" }).cpuShares).toBeLessThan(1024);
    expect(guest({}).cpuShares).toBeUndefined();
  });

  test("unlimited values", () => {
    const g = guest({ "rlimits/nproc": "inf\n", "rlimits/as": "unlimited\n" });
    expect(g.pidsLimit).toBeUndefined();
    expect(g.memoryLimit).toBeNull();
  });

  test("defaults directory is a fallback, never for identity", () => {
    const g = guest({}, { shell: "/bin/zsh\n", context: "5\n", "apps/init/style": "plain\n" });
    expect(g.shell).toEqual(["/bin/zsh"]);
    expect(g.context).toBeUndefined();
    expect(g.initStyle).toBe("plain");
  });

  test("vdir link", () => {
    const g = guest({}, {}, (t) => t.set("vdir", { kind: "link", target: "/srv/guests/web/" }));
    expect(g.vdir).toBe("/srv/guests/web");
  });

  const bad: Array<[string, Record<string, string>, RegExp]> = [
    ["context not a number", { context: "forty\n" }, /\/etc\/vservers\/web\/context: 'forty' is not a whole number/],
    ["context out of range", { context: "70000\n" }, /context: 70000 is above/],
    ["unknown init style", { "apps/init/style": "systemd\n" }, /apps\/init\/style: unknown init style 'systemd'/],
    ["unknown capability", { bcapabilities: "CAP_FLY\n" }, /bcapabilities: 'CAP_FLY' is not a capability/],
    ["bad killseq", { "apps/init/killseq": "15\n5\n" }, /killseq: expected/],
    ["bad signal", { "apps/init/killseq": "FOO\n" }, /killseq: 'FOO' is not a signal/],
    ["bad nice", { nice: "40\n" }, /nice: 40 is above/],
    ["bad fstab", { fstab: "none tmp tmpfs\n" }, /fstab line 1: mount point 'tmp' must be an absolute path/],
    ["fstab dotdot", { fstab: "/srv /../etc none bind\n" }, /must not contain '\.\.'/],
    ["unknown ulimit", { "ulimits/wings": "1\n" }, /ulimits\/wings: 'wings' is not a resource limit/],
    ["unknown flag", { cflags: "turbo\n" }, /cflags: 'turbo' is not a context flag/],
    ["bad hostname", { "uts/nodename": "a b\n" }, /uts\/nodename: "a b" is not a host name/],
    ["bad seccomp", { "security/seccomp": "off\n" }, /security\/seccomp: 'off' is not a seccomp setting/],
  ];
  for (const [what, files, re] of bad) {
    test(`rejects ${what} naming the file`, () => {
      let err: unknown;
      try {
        guest(files);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(re);
    });
  }

  test("unsupported settings are reported with their file", () => {
    const g = guest({ ccapabilities: "set_utsname\n", "cpuset/cpus": "0\n", "sched/tokens-max": "1\n", "wibble": "1\n" });
    const files = g.warnings.map((w) => w.file);
    expect(files).toContain("/etc/vservers/web/ccapabilities");
    expect(files.some((f) => f.includes("cpuset"))).toBe(true);
    expect(files).toContain("/etc/vservers/web/wibble");
    expect(g.warnings.find((w) => w.file.endsWith("wibble"))!.message).toMatch(/not a setting/);
  });
});

describe("capability lists", () => {
  test("add, remove with ~ and !, all and none", () => {
    expect(applyCapabilityList(["CHOWN"], ["NET_RAW", "!CHOWN"], "f")).toEqual(["NET_RAW"]);
    expect(applyCapabilityList(["CHOWN"], ["none", "cap_kill"], "f")).toEqual(["KILL"]);
    expect(applyCapabilityList([], ["all", "~SYS_ADMIN"], "f")).not.toContain("SYS_ADMIN");
    expect(applyCapabilityList([], ["all"], "f").length).toBeGreaterThan(38);
  });
});

describe("killseq and fstab", () => {
  test("a sequence that does not end in KILL gets one", () => {
    expect(parseKillSeq("15\n", "f").map((s) => s.signal)).toEqual(["SIGTERM", "SIGKILL"]);
  });
  test("fstab bind entries", () => {
    expect(parseFstab("/srv/data /data none bind,ro 0 0\n", "f")).toEqual([{ source: "/srv/data", target: "/data", type: "none", options: ["bind", "ro"], file: "f", line: 1 }]);
  });
});

describe("personality and uts/machine", () => {
  const { parsePersonality, personalityDomain } = require("../../src/pure/config/personality");
  test("linux32 (or linux_32bit, per_linux32) is LINUX32; flags are reported as not applied", () => {
    expect(parsePersonality("linux32\n", "/c/personality")).toEqual({ setting: { domain: "LINUX32", file: "/c/personality" }, flagsIgnored: false });
    expect(parsePersonality("LINUX_32BIT\nADDR_LIMIT_3GB\n", "/c/personality").flagsIgnored).toBe(true);
    expect(parsePersonality("PER_LINUX32\n", "/c/personality").setting.domain).toBe("LINUX32");
    expect(() => parsePersonality("irix64\n", "/c/personality")).toThrow("/c/personality: 'irix64' is not a personality");
  });
  test("uts/machine: the host's own machine, or its 32-bit one through LINUX32; nothing else", () => {
    const m = (value: string) => ({ value, file: "/c/uts/machine" });
    expect(personalityDomain(undefined, m("i686"), "x86_64")).toBe("LINUX32");
    expect(personalityDomain(undefined, m("i386"), "x86_64")).toBe("LINUX32");
    expect(personalityDomain(undefined, m("x86_64"), "x86_64")).toBeUndefined();
    expect(personalityDomain(undefined, m("armv8l"), "aarch64")).toBe("LINUX32");
    expect(() => personalityDomain(undefined, m("sparc64"), "x86_64")).toThrow("/c/uts/machine: a guest on this host can show the machine x86_64 or i686, not 'sparc64'.");
    expect(() => personalityDomain({ domain: "LINUX32", file: "/c/personality" }, m("x86_64"), "x86_64")).toThrow("contradicts /c/personality");
    expect(personalityDomain({ domain: "LINUX32", file: "/c/personality" }, undefined, "x86_64")).toBe("LINUX32");
  });
});

describe("sched/ as CPU control", () => {
  test("fill-rate over interval is a CPU cap; alone, or more than a CPU, it is refused naming the file", () => {
    expect(guest({ "sched/fill-rate": "1\n", "sched/interval": "4\n" }).cpuShare).toBe(0.25);
    expect(() => guest({ "sched/fill-rate": "1\n" })).toThrow("/etc/vservers/web/sched/fill-rate: sched/fill-rate and sched/interval go together");
    expect(() => guest({ "sched/fill-rate": "8\n", "sched/interval": "4\n" })).toThrow("more than all of a CPU");
    expect(guest({ "sched/tokens-max": "9\n" }).warnings.some((w) => w.file.endsWith("sched/tokens-max"))).toBe(true);
  });
});

describe("ccapabilities", () => {
  test("a ccap a Linux capability covers is read as it; the others are reported with the reason", () => {
    const g = guest({ ccapabilities: "raw_icmp\nVXC_SET_RLIMIT\nsecure_mount\n" });
    expect(g.capabilities).toContain("NET_RAW");
    expect(g.capabilities).toContain("SYS_RESOURCE");
    expect(g.capabilities).not.toContain("SYS_ADMIN");
    const w = g.warnings.filter((x) => x.file.endsWith("/ccapabilities"));
    expect(w).toHaveLength(1);
    expect(w[0]!.message).toContain("secure_mount");
    expect(() => guest({ ccapabilities: "fly\n" })).toThrow("'fly' is not a context capability");
  });
});

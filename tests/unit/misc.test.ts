import { describe, expect, test } from "bun:test";
import { nextFreeContext } from "../../src/pure/context-alloc";
import { legacyToEntries, readLegacyConf } from "../../src/pure/config/legacy-conf";
import { mirrorFromAptSources } from "../../src/pure/apt-sources";
import { pathsFor, cgroupParentFor, isValidGuestName } from "../../src/pure/paths";
import { formatStatus, formatGuestList } from "../../src/pure/format/guest-status";
import { parseMountinfoCgroups } from "../../src/drivers/cgroup/hierarchies";
import { withInclude } from "../../src/control/build";

describe("context allocation", () => {
  test("next free from 40000, honouring context.next and skipping used", () => {
    expect(nextFreeContext([])).toBe(40000);
    expect(nextFreeContext([40000, 40001, 40003])).toBe(40002);
    expect(nextFreeContext([40000], { next: 41000 })).toBe(41000);
    expect(nextFreeContext([49150, 49151], { start: 49150 })).toBeUndefined();
  });
});

describe("paths", () => {
  test("VSERVER_ROOT moves everything; the cgroup parent follows the root", () => {
    const p = pathsFor({ VSERVER_ROOT: "/tmp/x/" });
    expect(p.confDir).toBe("/tmp/x/etc/vservers");
    expect(p.vdirBase).toBe("/tmp/x/vservers");
    expect(p.runDir).toBe("/tmp/x/run/vservers");
    expect(p.cacheDir).toBe("/tmp/x/var/cache/vservers");
    expect(p.cgroupParent).toMatch(/^vservers-[0-9a-f]{8}$/);
    expect(pathsFor({}).confDir).toBe("/etc/vservers");
    expect(pathsFor({}).cgroupParent).toBe("vservers");
    expect(cgroupParentFor("/a")).not.toBe(cgroupParentFor("/b"));
  });
  test("guest names", () => {
    expect(isValidGuestName("web-01.example")).toBe(true);
    for (const bad of ["", "..", "-x", "a/b", "a b", "x".repeat(64)]) expect(isValidGuestName(bad)).toBe(false);
  });
});

describe("legacy NAME.conf", () => {
  const conf = `# old guest
IPROOT="eth0:192.0.2.10/24 192.0.2.11"
IPROOTDEV=eth1
S_HOSTNAME=oldweb
S_CONTEXT=1234
S_NICE=5
S_FLAGS="lock nproc fakeinit"
S_CAPS="CAP_NET_RAW"
ULIMIT="-HS -u 300 -n 1000"
ONBOOT=yes
PRIORITY=10
if [ "$PROFILE" = prod ]; then S_NICE=0; fi
EVIL="$(rm -rf /)"
`;
  test("read as data: shell code is skipped and reported, never run", () => {
    const { vars, skipped } = readLegacyConf(conf);
    expect(vars.get("S_NICE")).toEqual({ value: "5", line: 6 });
    expect(vars.has("EVIL")).toBe(false);
    expect(skipped.map((s) => s.line)).toEqual([12, 13]);
    expect(skipped[1]!.text).toMatch(/^EVIL=/);
  });
  test("converted to the directory layout", () => {
    const e = Object.fromEntries(legacyToEntries(conf, "/etc/vservers/old.conf").entries.map(([k, v]) => [k, v.kind === "file" ? v.content.trim() : v]));
    expect(e["context"]).toBe("1234");
    expect(e["uts/nodename"]).toBe("oldweb");
    expect(e["apps/init/style"]).toBe("plain");
    expect(e["cflags"]).toBe("lock\nnproc");
    expect(e["bcapabilities"]).toBe("CAP_NET_RAW");
    expect(e["rlimits/nproc"]).toBe("300");
    expect(e["ulimits/nofile"]).toBe("1000");
    expect(e["interfaces/00/ip"]).toBe("192.0.2.10");
    expect(e["interfaces/00/prefix"]).toBe("24");
    expect(e["interfaces/00/dev"]).toBe("eth0");
    expect(e["interfaces/01/dev"]).toBe("eth1");
    expect(e["apps/init/mark"]).toBe("default");
  });
});

describe("apt sources", () => {
  test("deb822 and one-line formats, security skipped", () => {
    expect(mirrorFromAptSources(["Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n\nTypes: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\n"])).toBe("http://mirror.example/debian");
    expect(mirrorFromAptSources(["deb http://security.debian.org/ bookworm-security main\ndeb [arch=amd64] http://m.example/debian bookworm main\n"])).toBe("http://m.example/debian");
    expect(mirrorFromAptSources([""])).toBeUndefined();
  });
});

describe("debootstrap includes", () => {
  test("added to an existing --include list once", () => {
    expect(withInclude([], "sysv-rc")).toEqual(["--include=sysv-rc"]);
    expect(withInclude(["--include=cron"], "sysv-rc")).toEqual(["--include=cron,sysv-rc"]);
    expect(withInclude(["--include=sysv-rc"], "sysv-rc")).toEqual(["--include=sysv-rc"]);
  });
});

describe("cgroup layouts", () => {
  const line = (mp: string, fs: string, opts: string) => `30 20 0:26 / ${mp} rw,nosuid shared:9 - ${fs} cgroup ${opts}`;
  test("hybrid, v1, v2", () => {
    const hybrid = [line("/sys/fs/cgroup/memory", "cgroup", "rw,memory"), line("/sys/fs/cgroup/unified", "cgroup2", "rw")].join("\n");
    expect(parseMountinfoCgroups(hybrid, () => ["hugetlb"]).layout).toBe("hybrid");
    expect(parseMountinfoCgroups(hybrid, () => []).layout).toBe("v1");
    expect(parseMountinfoCgroups(line("/sys/fs/cgroup", "cgroup2", "rw"), () => ["cpu", "memory"]).layout).toBe("v2");
    expect(parseMountinfoCgroups(hybrid, () => []).hierarchies.find((h) => h.version === 1)!.controllers).toEqual(["memory"]);
  });
});

describe("status text", () => {
  test("running and stopped", () => {
    expect(formatStatus({ name: "web", running: true, context: 40000, initStyle: "sysv", vdir: "/v/web", processes: 3, uptimeSeconds: 3725, log: "/l" }))
      .toBe("Vserver 'web' is running at context '40000'\nNumber of processes: 3\nUptime: 1h 2m 5s\nLog: /l\n");
    expect(formatStatus({ name: "web", running: false, context: 40000, initStyle: "sysv", vdir: "/v/web", log: "/l" })).toStartWith("Vserver 'web' is stopped");
    expect(formatGuestList([{ name: "a", running: false, context: 40000, initStyle: "sysv", vdir: "/v/a", log: "" }])).toBe("NAME  CTX    STATE    INIT  ROOT\na     40000  stopped  sysv  /v/a\n");
  });
});

// vuname, vlimit and vattribute against real running guests: each change is checked where the
// kernel keeps it (inside the guest, in the cgroup files, in /proc/PID/limits and status), the
// saved config is checked by a restart, and what cannot change live must be refused plainly.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { TestHost, busyboxGuest } from "../helpers/host";

const h = new TestHost("livesettings");
const G = "ls1";
const STOPPED = "ls2";

afterAll(() => h.cleanup());

beforeAll(() => {
  busyboxGuest(h, G);
  busyboxGuest(h, STOPPED);
  h.ok(G, "start");
});

function rec(name: string): { pid: number; context: number } {
  return JSON.parse(readFileSync(`${h.runDir}/${name}`, "utf8"));
}

function cg(ctrl: string, file: string): string {
  return readFileSync(`/sys/fs/cgroup/${ctrl}/${h.cgroupParent}/${rec(G).context}/${file}`, "utf8").trim();
}

function procLimit(pid: number, label: string): string {
  const line = readFileSync(`/proc/${pid}/limits`, "utf8").split("\n").find((l) => l.startsWith(label))!;
  return line.slice(label.length).trim().split(/\s+/).slice(0, 2).join(" ");
}

function capBnd(pid: number): bigint {
  return BigInt("0x" + /^CapBnd:\s*(\S+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
}

/** One line on stderr naming the cause, and a failure status. */
function oneLineError(r: { code: number; stderr: string; stdout: string }, re: RegExp): void {
  expect(r.code).not.toBe(0);
  expect(r.stdout).toBe("");
  expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(r.stderr).toMatch(re);
}

const hostName = () => readFileSync("/proc/sys/kernel/hostname", "utf8").trim();

describe("vuname", () => {
  test("prints util-vserver's fields on one line; nodename is the guest's, release the host's", () => {
    const all = h.run("vuname", ["--xid", G]);
    expect(all.code).toBe(0);
    const release = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
    expect(all.stdout.startsWith(`${h.cfg(G)} Linux ${G} ${release} `)).toBe(true);
    expect(h.run("vuname", ["--xid", String(rec(G).context), "nodename", "release"]).stdout).toBe(`${G} ${release}\n`);
  });

  test("sets the hostname live: seen inside the guest, not on the host; config untouched without --save", () => {
    const before = hostName();
    const r = h.run("vuname", ["-s", "--xid", G, "-t", "nodename=live-name", "-t", "domainname=live.example"]);
    expect(r.code).toBe(0);
    expect(h.inGuest(G, "hostname").stdout).toBe("live-name\n");
    expect(h.inGuest(G, "cat", "/proc/sys/kernel/domainname").stdout).toBe("live.example\n");
    expect(hostName()).toBe(before);
    expect(hostName()).not.toBe("live-name");
    expect(existsSync(`${h.cfg(G)}/uts/domainname`)).toBe(false);
    expect(h.run("vuname", ["--xid", G, "nodename", "domainname"]).stdout).toBe("live-name live.example\n");
  });

  test("--dir applies the files of a directory, --save writes uts/ into the config", () => {
    const d = `${h.root}/utsdir`;
    mkdirSync(d, { recursive: true });
    writeFileSync(`${d}/nodename`, "from-dir\n");
    expect(h.run("vuname", ["--dir", d, "--xid", G]).code).toBe(0);
    expect(h.inGuest(G, "hostname").stdout).toBe("from-dir\n");
    expect(h.run("vuname", ["--dir", `${h.root}/nope`, "--xid", G, "--missingok"]).code).toBe(0);
    const r = h.run("vuname", ["-s", "--xid", G, "-t", "nodename=saved-name", "--save"]);
    expect(r.code).toBe(0);
    expect(readFileSync(`${h.cfg(G)}/uts/nodename`, "utf8")).toBe("saved-name\n");
    expect(h.inGuest(G, "hostname").stdout).toBe("saved-name\n");
  });

  test("refuses the host kernel's fields and bad values in one line, changing nothing", () => {
    oneLineError(h.run("vuname", ["-s", "--xid", G, "-t", "release=9.9"]), /^vuname: 'release' comes from the host's kernel.*cannot be set per guest/);
    oneLineError(h.run("vuname", ["-s", "--xid", G, "-t", "context=/x"]), /'context' is not a kernel field/);
    oneLineError(h.run("vuname", ["-s", "--xid", G, "-t", "nodename=a b"]), /nodename: 'a b' is not usable/);
    oneLineError(h.run("vuname", ["--xid", G, "bogus"]), /'bogus' is not a tag/);
    oneLineError(h.run("vuname", ["nodename"]), /no context given/);
    expect(h.inGuest(G, "hostname").stdout).toBe("saved-name\n");
  });
});

describe("vlimit", () => {
  test("prints every limit in util-vserver's layout", () => {
    const r = h.run("vlimit", ["--xid", G, "-d"]);
    expect(r.code).toBe(0);
    const nproc = r.stdout.split("\n").find((l) => l.startsWith("NPROC"))!;
    expect(nproc).toBe(`NPROC       N/A                 N/A                 ${cg("pids", "pids.max")}`);
    expect(r.stdout).toMatch(/^NOFILE {6}N\/A {17}\d+ +\d+$/m);
  });

  test("a lowered process limit stops forks in the running guest; raising it lets them through again", () => {
    const fork = () => h.inGuest(G, "sh", "-c", "(true) & wait && echo forked");
    expect(fork().stdout).toBe("forked\n");
    expect(h.run("vlimit", ["--xid", G, "--nproc", "1"]).code).toBe(0);
    expect(cg("pids", "pids.max")).toBe("1");
    const blocked = fork();
    expect(blocked.stdout).toBe("");
    expect(blocked.stderr).toMatch(/fork/i);
    expect(h.run("vlimit", ["--xid", G, "--nproc", "inf"]).code).toBe(0);
    expect(cg("pids", "pids.max")).toBe("max");
    expect(fork().stdout).toBe("forked\n");
  });

  test("memory (pages), CPU weight and open files change live; config untouched without --save", () => {
    const r = h.run("vlimit", ["-c", G, "--rss", "25600", "--cpu-shares", "512", "--nofile", "321"]);
    expect(r.code).toBe(0);
    expect(cg("memory", "memory.limit_in_bytes")).toBe(String(25600 * 4096));
    expect(cg("cpu", "cpu.shares")).toBe("512");
    expect(procLimit(rec(G).pid, "Max open files")).toBe("321 321");
    expect(r.stderr).toMatch(/--nofile applies to the 1 process running in guest 'ls1'.*'vserver ls1 exec' still starts processes with the value the guest was started with/);
    expect(existsSync(`${h.cfg(G)}/rlimits`)).toBe(false);
    expect(existsSync(`${h.cfg(G)}/ulimits`)).toBe(false);
    // -S alone moves only the soft limit.
    expect(h.run("vlimit", ["-c", G, "-S", "--nofile", "100"]).code).toBe(0);
    expect(procLimit(rec(G).pid, "Max open files")).toBe("100 321");
    // A soft limit above the hard one is the kernel's refusal, said in one line.
    oneLineError(h.run("vlimit", ["-c", G, "-S", "--nofile", "5000"]), /^vlimit: cannot set --nofile 5000 for process \d+ of guest 'ls1': .*cannot exceed the hard limit/);
  });

  test("--save writes rlimits/, ulimits/ and cgroup/ into the config, and a restart uses them", () => {
    const r = h.run("vlimit", ["--xid", G, "--nproc", "77", "--as", "30000", "--cpu-shares", "300", "--nofile", "200", "--save"]);
    expect(r.stderr).not.toMatch(/refused|cannot/);
    expect(r.code).toBe(0);
    expect(readFileSync(`${h.cfg(G)}/rlimits/nproc`, "utf8")).toBe("77\n");
    expect(readFileSync(`${h.cfg(G)}/rlimits/as`, "utf8")).toBe("30000\n");
    expect(readFileSync(`${h.cfg(G)}/cgroup/cpu.shares`, "utf8")).toBe("300\n");
    expect(readFileSync(`${h.cfg(G)}/ulimits/nofile`, "utf8")).toBe("200\n");
    h.ok(G, "restart");
    expect(cg("pids", "pids.max")).toBe("77");
    expect(cg("memory", "memory.limit_in_bytes")).toBe(String(30000 * 4096));
    expect(cg("cpu", "cpu.shares")).toBe("300");
    expect(procLimit(rec(G).pid, "Max open files")).toBe("200 200");
    // The uts/nodename saved by vuname above holds after the restart too.
    expect(h.inGuest(G, "hostname").stdout).toBe("saved-name\n");
  });

  test("raising a hard limit works only with CAP_SYS_RESOURCE, and says so without it", () => {
    const m = /^CapEff:\s*(\S+)$/m.exec(readFileSync("/proc/self/status", "utf8"))!;
    const hasSysResource = ((BigInt("0x" + m[1]) >> 24n) & 1n) === 1n;
    const r = h.run("vlimit", ["--xid", G, "--nofile", "300"]);
    if (hasSysResource) {
      expect(r.code).toBe(0);
      expect(procLimit(rec(G).pid, "Max open files")).toBe("300 300");
    } else {
      oneLineError(r, /cannot set --nofile 300 .*raising a hard limit needs CAP_SYS_RESOURCE/);
      expect(procLimit(rec(G).pid, "Max open files")).toBe("200 200");
    }
  });

  test("--dir reads util-vserver's limit files (memory in pages)", () => {
    const d = `${h.root}/limitdir`;
    mkdirSync(d, { recursive: true });
    writeFileSync(`${d}/nproc`, "55\n");
    writeFileSync(`${d}/rss`, "20000\n");
    expect(h.run("vlimit", ["--xid", G, "--dir", d]).code).toBe(0);
    expect(cg("pids", "pids.max")).toBe("55");
    expect(cg("memory", "memory.limit_in_bytes")).toBe(String(20000 * 4096));
  });

  test("--ccap raw_icmp is CAP_NET_RAW in bcapabilities, saved for the next start", () => {
    const r = h.run("vattribute", ["--xid", G, "--set", "--ccap", "~raw_icmp"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("--ccap ~raw_icmp is the Linux capability NET_RAW here");
    expect(readFileSync(`${h.cfg(G)}/bcapabilities`, "utf8")).toContain("~NET_RAW\n");
    expect(h.run("vattribute", ["--xid", G, "--get"]).stdout).not.toMatch(/^bcapabilities-next-start .*NET_RAW/m);
  });

  test("refusals and bad arguments: one line each", () => {
    oneLineError(h.run("vlimit", ["--xid", G, "--nsock", "5"]), /^vlimit: --nsock: .*no kernel today has a per-guest 'nsock' limit/);
    oneLineError(h.run("vlimit", ["--xid", G, "-S", "--nproc", "5"]), /whole-guest limit is one cgroup value/);
    oneLineError(h.run("vlimit", ["--xid", G, "--nproc", "lots"]), /'lots' is not a limit/);
    oneLineError(h.run("vlimit", ["--xid", G, "--bogus", "1"]), /unknown option or resource '--bogus'/);
    oneLineError(h.run("vlimit", ["--nproc", "5"]), /no context given/);
    expect(cg("pids", "pids.max")).toBe("55");
  });
});

describe("vattribute", () => {
  test("--get shows the bounding set of the guest's init", () => {
    const r = h.run("vattribute", ["--xid", G, "--get"]);
    expect(r.code).toBe(0);
    const line = r.stdout.split("\n")[0]!;
    expect(line).toMatch(/^bcapabilities CHOWN,/);
    expect(line).not.toMatch(/NET_RAW|SYS_ADMIN/);
    expect(capBnd(rec(G).pid) & (1n << 13n)).toBe(0n); // NET_RAW
  });

  test("--set saves bcapabilities for the next start and says plainly that the running guest keeps its set", () => {
    const pid = rec(G).pid;
    const before = capBnd(pid);
    const r = h.run("vattribute", ["--xid", G, "--set", "--bcap", "NET_RAW", "--bcap", "~CHOWN"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/saved for its next start; the running guest keeps its bounding set/);
    expect(readFileSync(`${h.cfg(G)}/bcapabilities`, "utf8")).toBe("NET_RAW\n~CHOWN\n");
    expect(capBnd(pid)).toBe(before);
    const get = h.run("vattribute", ["--xid", G, "--get"]).stdout;
    expect(get).toMatch(/^bcapabilities-next-start DAC_OVERRIDE,.*NET_RAW/m);
    expect(get).not.toMatch(/^bcapabilities-next-start .*CHOWN/m);
  });

  test("the private flag holds at once; others are saved for the next start", () => {
    expect(h.inGuest(G, "true").code).toBe(0);
    const r = h.run("vattribute", ["--xid", G, "--set", "--flag", "private"]);
    expect(r.code).toBe(0);
    expect(h.inGuest(G, "true").code).not.toBe(0);
    expect(h.run("vattribute", ["--xid", G, "--set", "--flag", "~private", "--flag", "lock"]).stderr).toMatch(/flags lock of guest 'ls1' saved for its next start/);
    expect(readFileSync(`${h.cfg(G)}/cflags`, "utf8")).toBe("~private\nlock\n");
    expect(h.inGuest(G, "true").code).toBe(0);
  });

  test("--ccap raw_icmp is CAP_NET_RAW in bcapabilities, saved for the next start", () => {
    const r = h.run("vattribute", ["--xid", G, "--set", "--ccap", "~raw_icmp"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("--ccap ~raw_icmp is the Linux capability NET_RAW here");
    expect(readFileSync(`${h.cfg(G)}/bcapabilities`, "utf8")).toContain("~NET_RAW\n");
    expect(h.run("vattribute", ["--xid", G, "--get"]).stdout).not.toMatch(/^bcapabilities-next-start .*NET_RAW/m);
  });

  test("refusals and bad arguments: one line each", () => {
    oneLineError(h.run("vattribute", ["--xid", G, "--set", "--ccap", "mount"]), /^vattribute: --ccap secure_mount: mounting: it needs CAP_SYS_ADMIN/);
    oneLineError(h.run("vattribute", ["--xid", G, "--set", "--ccap", "fly"]), /'fly' is not a context capability/);
    oneLineError(h.run("vattribute", ["--xid", G, "--set", "--bcap", "FLY"]), /'FLY' is not a capability name/);
    oneLineError(h.run("vattribute", ["--xid", G, "--set", "--flag", "fly"]), /'fly' is not a context flag/);
    oneLineError(h.run("vattribute", ["--xid", G]), /say --get or --set/);
  });
});

describe("every command: unknown and stopped guests, unused contexts", () => {
  for (const [cmd, args] of [["vuname", []], ["vlimit", []], ["vattribute", ["--get"]]] as const) {
    test(cmd, () => {
      oneLineError(h.run(cmd, ["--xid", "nosuchguest", ...args]), /no guest named 'nosuchguest'/);
      oneLineError(h.run(cmd, ["--xid", STOPPED, ...args]), /guest 'ls2' is not running/);
      oneLineError(h.run(cmd, ["--xid", "48999", ...args]), /context 48999 has no processes/);
      oneLineError(h.run(cmd, ["--xid", "0", ...args]), /context 0 is the host/);
    });
  }
});

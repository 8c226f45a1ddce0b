import { describe, expect, test } from "bun:test";
import { parseGuestConfig } from "../../src/pure/config/guest-config";
import { fileTree } from "../../src/pure/config/tree";
import { buildOciSpec } from "../../src/pure/spec/oci-spec";
import { GUEST_INIT_PATH, guestInitArgv } from "../../src/pure/guest-init";
import { defaultSeccomp } from "../../src/pure/spec/seccomp";

const facts = { cgroupsPath: "/vservers/40000", guestInitPath: "/usr/lib/vserver/vserver-init", hostMemoryBytes: 8 << 30, arch: "x86_64", args: guestInitArgv([["/etc/init.d/rc", "3"]], [["/etc/init.d/rc", "6"]]), ids: { range: { base: 40000 * 65536, count: 65536 }, root: "/run/vservers/.roots/web/root" } };

function spec(files: Record<string, string>, f: Partial<Omit<typeof facts, "ids">> & { netnsPath?: string; ids?: typeof facts.ids & { sysfs?: string } } = {}) {
  const g = parseGuestConfig({ name: "web", cfgDir: "/etc/vservers/web", guest: fileTree(files), defaults: new Map(), vdirBase: "/vservers" });
  return buildOciSpec(g, { ...facts, ...f }) as any;
}

describe("OCI spec", () => {
  test("namespaces, root, hostname, cgroup path", () => {
    const s = spec({ "uts/nodename": "www\n", "uts/domainname": "corp\n" });
    expect(s.linux.namespaces.map((n: any) => n.type)).toEqual(["pid", "mount", "uts", "ipc", "cgroup", "user"]);
    expect(s.root).toEqual({ path: "/run/vservers/.roots/web/root", readonly: false });
    expect(s.hostname).toBe("www");
    expect(s.linux.sysctl["kernel.domainname"]).toBe("corp");
    expect(s.linux.cgroupsPath).toBe("/vservers/40000");
  });

  test("user namespace: the guest's id range, its idmapped root, and host directories bound idmapped", () => {
    const s = spec({ fstab: "/srv/data /data none bind 0 0\n/srv/ro /ro none bind,ro 0 0\n" });
    const map = [{ containerID: 0, hostID: 40000 * 65536, size: 65536 }];
    expect(s.linux.uidMappings).toEqual(map);
    expect(s.linux.gidMappings).toEqual(map);
    expect(s.mounts.find((m: any) => m.destination === "/data").options).toContain("idmap");
    expect(s.mounts.find((m: any) => m.destination === "/ro").options).toEqual(["bind", "nosuid", "nodev", "idmap", "ro"]);
    expect(() => spec({}, { ids: undefined })).toThrow();
  });

  test("a guest in a user namespace and a network namespace of ours binds the sysfs the host made of it", () => {
    const s = spec({}, { netnsPath: "/run/x/ns", ids: { ...facts.ids, sysfs: "/run/vservers/.roots/web/sys" } });
    expect(s.mounts.find((m: any) => m.destination === "/sys")).toEqual({ destination: "/sys", type: "bind", source: "/run/vservers/.roots/web/sys", options: ["bind", "nosuid", "noexec", "nodev", "ro"] });
  });

  test("a guest whose own init is systemd: /run a tmpfs, its own name=systemd cgroup writable after the cgroup mount", () => {
    const dir = "/sys/fs/cgroup/systemd/vservers/40000";
    const s = spec({}, { args: ["/sbin/init"], systemdCgroup: dir } as any);
    const dests = s.mounts.map((m: any) => m.destination);
    expect(s.mounts.find((m: any) => m.destination === "/run")).toEqual({ destination: "/run", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=755", "size=65536k"] });
    expect(s.mounts.find((m: any) => m.destination === "/run/lock").options).toEqual(["nosuid", "nodev", "noexec", "mode=1777", "size=5120k"]);
    expect(dests.indexOf("/run/lock")).toBeGreaterThan(dests.indexOf("/run"));
    const cg = s.mounts.find((m: any) => m.destination === "/sys/fs/cgroup/systemd");
    expect(cg).toEqual({ destination: "/sys/fs/cgroup/systemd", type: "bind", source: dir, options: ["bind", "nosuid", "noexec", "nodev", "rw"] });
    expect(dests.indexOf("/sys/fs/cgroup/systemd")).toBeGreaterThan(dests.indexOf("/sys/fs/cgroup"));
    // Everything else stays read-only.
    expect(s.mounts.find((m: any) => m.destination === "/sys/fs/cgroup").options).toContain("ro");
    expect(s.linux.readonlyPaths).toContain("/proc/sys");
    // The guest's own /run in its fstab is kept.
    const own = spec({ fstab: "none /run tmpfs size=1m 0 0\n" }, { args: ["/sbin/init"], systemdCgroup: dir } as any);
    expect(own.mounts.filter((m: any) => m.destination === "/run")).toHaveLength(1);
    expect(own.mounts.find((m: any) => m.destination === "/run").options).toContain("size=1m");
    // Any other guest gets neither.
    const plain = spec({});
    expect(plain.mounts.some((m: any) => m.destination.startsWith("/run") || m.destination === "/sys/fs/cgroup/systemd")).toBe(false);
  });

  test("security/privileged: no user namespace, the guest's own directory as root, binds as they are", () => {
    const s = spec({ "security/privileged": "", fstab: "/srv/data /data none bind 0 0\n" }, { ids: undefined });
    expect(s.linux.namespaces.map((n: any) => n.type)).not.toContain("user");
    expect(s.linux.uidMappings).toBeUndefined();
    expect(s.root.path).toBe("/vservers/web");
    expect(s.mounts.find((m: any) => m.destination === "/data").options).not.toContain("idmap");
  });

  test("own network namespace from spaces/net or a prepared path", () => {
    expect(spec({ "spaces/net": "" }).linux.namespaces).toContainEqual({ type: "network" });
    expect(spec({}, { netnsPath: "/run/x/ns" }).linux.namespaces).toContainEqual({ type: "network", path: "/run/x/ns" });
  });

  test("capabilities: the whitelist, never ambient or inheritable", () => {
    const s = spec({ bcapabilities: "NET_RAW\n!KILL\n" });
    expect(s.process.capabilities.bounding).toContain("CAP_NET_RAW");
    expect(s.process.capabilities.bounding).not.toContain("CAP_KILL");
    expect(s.process.capabilities.bounding).not.toContain("CAP_SYS_ADMIN");
    expect(s.process.capabilities.inheritable).toBeUndefined();
    expect(s.process.capabilities.ambient).toBeUndefined();
    expect(s.process.noNewPrivileges).toBe(true);
  });

  test("limits: pids, memory in pages, default memory, cpu shares, rlimits", () => {
    const s = spec({ "rlimits/nproc": "50\n", "rlimits/rss": "1000\n", "ulimits/nofile": "100\n", "cgroup/cpu.shares": "256\n" });
    expect(s.linux.resources.pids).toEqual({ limit: 50 });
    expect(s.linux.resources.memory).toEqual({ limit: 1000 * 4096 });
    expect(s.linux.resources.cpu).toEqual({ shares: 256 });
    expect(s.process.rlimits).toEqual([{ type: "RLIMIT_NOFILE", hard: 100, soft: 100 }]);
    expect(spec({}).linux.resources.memory).toEqual({ limit: 4 << 30 });
    expect(spec({ "rlimits/rss": "inf\n" }).linux.resources.memory).toBeUndefined();
  });

  test("mounts: base set, fstab overrides and binds, reaper only when PID 1 is the reaper", () => {
    const s = spec({ fstab: "none /tmp tmpfs size=8m 0 0\n/srv/www /var/www none bind,ro 0 0\n" });
    const byDest = Object.fromEntries(s.mounts.map((m: any) => [m.destination, m]));
    expect(byDest["/tmp"].options).toContain("size=8m");
    expect(byDest["/var/www"]).toEqual({ destination: "/var/www", type: "bind", source: "/srv/www", options: ["bind", "nosuid", "nodev", "idmap", "ro"] });
    expect(byDest[GUEST_INIT_PATH].options).toContain("ro");
    expect(byDest["/proc/sys"]).toBeUndefined();
    expect(s.linux.readonlyPaths).toContain("/proc/sysrq-trigger");
    expect(s.linux.maskedPaths).toContain("/proc/kcore");
    const plain = spec({ "apps/init/style": "plain\n" }, { args: ["/sbin/init"] });
    expect(plain.mounts.some((m: any) => m.destination === GUEST_INIT_PATH)).toBe(false);
  });

  test("sysfs is the host's read-only when the guest shares the host network", () => {
    const sys = spec({}).mounts.find((m: any) => m.destination === "/sys");
    expect(sys.type).toBe("bind");
    expect(sys.options).toContain("ro");
    expect(spec({ "spaces/net": "" }).mounts.find((m: any) => m.destination === "/sys").type).toBe("sysfs");
  });

  test("seccomp on by default, off when unconfined", () => {
    expect(spec({}).linux.seccomp.defaultAction).toBe("SCMP_ACT_ALLOW");
    expect(spec({ "security/seccomp": "unconfined\n" }).linux.seccomp).toBeUndefined();
  });

  test("packet sockets are refused on the host's stack only", () => {
    const packet = (s: any) => s.linux.seccomp.syscalls.some((r: any) => r.names[0] === "socket" && r.args?.[0]?.index === 0 && r.args[0].value === 17);
    expect(packet(spec({}))).toBe(true);
    expect(packet(spec({ "spaces/net": "" }))).toBe(false);
  });
});

describe("seccomp profile", () => {

  test("personality: ASLR-weakening flags refused in every persona but the query, which sets nothing", () => {
    const p = defaultSeccomp({ sysAdmin: false, lock: false, arch: "x86_64" }) as any;
    const rules = p.syscalls.filter((r: any) => r.names.includes("personality"));
    // What libseccomp builds: a persona is refused when any rule's masked comparison matches.
    const refused = (v: number) => rules.some((r: any) => r.args.every((a: any) => Number((BigInt(v) & BigInt(a.value))) === a.valueTwo));
    expect(refused(0xffffffff)).toBe(false);
    expect(refused(0)).toBe(false);
    expect(refused(0x0008)).toBe(false); // PER_LINUX32
    expect(refused(0x0040000)).toBe(true); // ADDR_NO_RANDOMIZE
    expect(refused(0x0400000)).toBe(true); // READ_IMPLIES_EXEC
    expect(refused(0x0040008)).toBe(true);
    // Any value with the flag but one bit short of the query is still refused.
    for (let k = 0; k < 32; k++) if (2 ** k !== 0x40000) expect(refused(0xffffffff - 2 ** k)).toBe(true);
    expect(refused(0xffffffff - 0x40000 - 0x400000)).toBe(false);
  });
  const names = (p: any) => p.syscalls.flatMap((r: any) => r.names);
  test("blocks the kernel surface a guest must not touch", () => {
    const p = defaultSeccomp({ sysAdmin: false, lock: false, arch: "x86_64" }) as any;
    for (const n of ["keyctl", "bpf", "perf_event_open", "kexec_load", "init_module", "open_by_handle_at", "mount", "setns", "unshare", "clone3", "userfaultfd"]) {
      expect(names(p)).toContain(n);
    }
    expect(p.syscalls.find((r: any) => r.names[0] === "clone3").errnoRet).toBe(38);
  });
  test("CAP_SYS_ADMIN guests may mount; lock still forbids namespaces", () => {
    const admin = defaultSeccomp({ sysAdmin: true, lock: false, arch: "x86_64" }) as any;
    expect(names(admin)).not.toContain("mount");
    expect(names(admin)).not.toContain("setns");
    const locked = defaultSeccomp({ sysAdmin: true, lock: true, arch: "x86_64" }) as any;
    expect(names(locked)).toContain("setns");
  });
  test("ioctl requests are matched on their low 32 bits, which is all the kernel reads", () => {
    const p = defaultSeccomp({ sysAdmin: true, lock: false, arch: "x86_64" }) as any;
    const requests = p.syscalls.filter((r: any) => r.names[0] === "ioctl").map((r: any) => r.args[0]);
    for (const a of requests) expect(a).toMatchObject({ index: 1, value: 0xffffffff, op: "SCMP_CMP_MASKED_EQ" });
    const denied = requests.map((a: any) => a.valueTwo);
    // TIOCSTI, subvolume and snapshot creation, and the quota switch, even for CAP_SYS_ADMIN guests.
    for (const r of [0x5412, 0x5000940e, 0x50009418, 0x50009401, 0x50009417, 0x5000943f, 0xc0109428, 0x8030942b]) expect(denied).toContain(r);
  });
});

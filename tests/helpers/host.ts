// Test harness for integration tests: every test file gets its own VSERVER_ROOT (so its own
// config, guests, run state, cgroup parent and runtime state), runs the real commands from bin/,
// and removes everything it made in afterAll, even when tests failed.

import { mkdtempSync, rmSync, existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { cgroupParentFor } from "../../src/pure/paths";

export const REPO = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
export const BIN = `${REPO}/bin`;

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class TestHost {
  readonly root: string;
  readonly env: Record<string, string>;
  /**
   * The context `build` gives this root's first guest (its .defaults/context.next). Every state
   * root numbers from 40000 by default, and a context picks the guest's host ids; test roots of
   * parallel runs get their own block of 64 from 42000 instead (above the contexts tests set
   * themselves), so their guests do not meet (`start` refuses ids that another root's running
   * guest has, docs/security.md).
   */
  readonly firstContext: number;

  /** `within`: the directory to make the root in (default /tmp), for tests of its parent's mode. */
  constructor(label: string, opts: { within?: string } = {}) {
    this.root = mkdtempSync(`${opts.within ?? "/tmp"}/vserver-test-${label}-`);
    this.env = { ...(process.env as Record<string, string>), VSERVER_ROOT: this.root };
    this.firstContext = 42000 + 64 * Math.floor(Math.random() * 110);
    mkdirSync(`${this.confDir}/.defaults`, { recursive: true });
    writeFileSync(`${this.confDir}/.defaults/context.next`, `${this.firstContext}\n`);
  }

  /** Run bin/<cmd> with this host's state root. */
  run(cmd: string, args: string[], opts: { input?: string; timeout?: number; env?: Record<string, string> } = {}): CmdResult {
    const r = Bun.spawnSync([`${BIN}/${cmd}`, ...args], {
      env: { ...this.env, ...(opts.env ?? {}) },
      stdin: opts.input !== undefined ? Buffer.from(opts.input) : "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: (opts.timeout ?? 120) * 1000,
      killSignal: "SIGKILL",
    });
    return { code: r.exitCode ?? 128 + 9, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  }

  vserver(...args: string[]): CmdResult {
    return this.run("vserver", args);
  }

  /** Like vserver(), but the command must succeed. */
  ok(...args: string[]): CmdResult {
    const r = this.vserver(...args);
    if (r.code !== 0) throw new Error(`vserver ${args.join(" ")} exited ${r.code}: ${r.stderr || r.stdout}`);
    return r;
  }

  /** Output of a command run inside a guest. */
  inGuest(name: string, ...cmd: string[]): CmdResult {
    return this.vserver(name, "exec", ...cmd);
  }

  get confDir() { return `${this.root}/etc/vservers`; }
  get runDir() { return `${this.root}/run/vservers`; }
  get logDir() { return `${this.root}/var/log/vservers`; }
  vdir(name: string) { return `${this.root}/vservers/${name}`; }
  cfg(name: string) { return `${this.confDir}/${name}`; }

  /** The cgroup parent name this root uses (the same derivation as src/pure/paths.ts). */
  get cgroupParent(): string {
    return cgroupParentFor(this.root);
  }

  /** Stop and delete every guest, then remove the root. Safe to call twice. */
  /**
   * Stop and delete every guest of this root, and stop its service. Tests whose guests live on a
   * file system of their own (a loop device) call it before they remove that file system;
   * `between`, if given, runs after the stops and before the deletes.
   */
  removeGuests(between?: () => void): void {
    let names: string[] = [];
    try {
      // A guest's directory, or its legacy NAME.conf (a NAME.sh is no guest of its own).
      names = [...new Set(readdirSync(this.confDir).filter((n) => !n.startsWith(".") && !n.endsWith(".sh")).map((n) => n.replace(/\.conf$/, "")))];
    } catch {}
    for (const n of names) this.run("vserver", ["--silent", n, "stop"], { timeout: 60 });
    between?.();
    for (const n of names) this.run("vserver", ["--silent", n, "delete", "--force"], { timeout: 60 });
    // The host service this root's commands started (if any) goes too.
    this.run("vserverd", ["--stop"], { timeout: 30 });
  }

  cleanup(): void {
    if (!existsSync(this.root)) return;
    this.removeGuests();
    // The kernel's reboot watch lives in this root's bpf file system: unmounting it detaches it.
    if (existsSync(`${this.runDir}/.bpf/fs`)) Bun.spawnSync(["umount", `${this.runDir}/.bpf/fs`], { stdout: "ignore", stderr: "ignore" });
    const left = this.leftovers();
    rmSync(this.root, { recursive: true, force: true });
    if (left.length) throw new Error(`test host ${this.root} left behind: ${left.join("; ")}`);
  }

  /** What this root still holds on the host: mounts, cgroups, runtime containers. */
  leftovers(): string[] {
    const out: string[] = [];
    const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(this.root));
    if (mounts.length) out.push(`${mounts.length} mounts under ${this.root}`);
    const cg = ["pids", "memory", "cpu", "unified", "systemd", ""].map((h) => `/sys/fs/cgroup/${h}/${this.cgroupParent}`.replace("//", "/")).filter((d) => existsSync(d));
    if (cg.length) out.push(`cgroups ${cg.join(", ")}`);
    for (const rt of ["crun", "runc"]) {
      const d = `${this.runDir}/.runtime/${rt}`;
      try {
        const c = readdirSync(d);
        if (c.length) out.push(`${rt} containers ${c.join(", ")}`);
      } catch {}
    }
    return out;
  }
}

/** Build a busybox guest, optionally with extra config files (path relative to its cfgdir -> content). */
export function busyboxGuest(h: TestHost, name: string, files: Record<string, string> = {}, extraArgs: string[] = []): void {
  h.ok(name, "build", "-m", "busybox", "--quiet", ...extraArgs);
  for (const [rel, content] of Object.entries(files)) {
    const p = `${h.cfg(name)}/${rel}`;
    mkdirSync(p.slice(0, p.lastIndexOf("/")), { recursive: true });
    writeFileSync(p, content, { mode: rel.startsWith("scripts/") ? 0o755 : 0o644 });
  }
}

/**
 * Kill (SIGKILL) the process whose PID a test's own command wrote into `file` (`echo $$ > file;
 * exec ...`), if it is still that program: tests kill only what they started, by PID.
 */
export function killRecordedPid(file: string, program: string): void {
  let pid = 0;
  try {
    pid = Number(readFileSync(file, "utf8").trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(program)) return;
    process.kill(pid, "SIGKILL");
  } catch {}
}

/**
 * A test program (tests/escape/*.c, tests/helpers/*.c), built static so that it runs in a busybox
 * guest, once per path. gcc and libc6-dev are in the Makefile's DEB_PACKAGES.
 */
export function compileStatic(source: string, out: string): string {
  if (existsSync(out)) return out;
  const cc = Bun.spawnSync(["gcc", "-static", "-O1", "-o", out, source], { stderr: "pipe" });
  if (cc.exitCode !== 0) throw new Error(`compiling ${source} failed (gcc and libc6-dev are in the Makefile's DEB_PACKAGES): ${cc.stderr}`);
  return out;
}

// Running other programs. Every child gets an argv array, never a shell command line: nothing from
// a config file or a guest is ever interpreted by a shell (docs/security.md).

import { statSync } from "node:fs";
import { ToolError } from "../errors";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  stdin?: "inherit" | "ignore" | string;
  /** Seconds; the child is killed with SIGKILL after it. */
  timeout?: number;
}

/** Run to completion and capture output. Throws only when the program cannot be started. */
export function run(argv: string[], opts: RunOptions = {}): RunResult {
  const stdin = opts.stdin === undefined || opts.stdin === "ignore" ? "ignore" : opts.stdin === "inherit" ? "inherit" : Buffer.from(opts.stdin);
  let r;
  try {
    r = Bun.spawnSync(argv, {
      cwd: opts.cwd,
      env: (opts.env ?? process.env) as Record<string, string>,
      stdin,
      stdout: "pipe",
      stderr: "pipe",
      timeout: opts.timeout ? opts.timeout * 1000 : undefined,
      killSignal: "SIGKILL",
    });
  } catch (e) {
    throw new ToolError(`cannot run ${argv[0]}: ${(e as Error).message}`);
  }
  return {
    code: r.exitCode ?? (r.signalCode ? 128 + signalNumber(String(r.signalCode)) : 1),
    stdout: r.stdout?.toString() ?? "",
    stderr: r.stderr?.toString() ?? "",
  };
}

/** Like run(), without blocking: for several programs at a time. */
export async function runAsync(argv: string[], opts: { env?: Record<string, string | undefined> } = {}): Promise<RunResult> {
  let p;
  try {
    p = Bun.spawn(argv, { env: (opts.env ?? process.env) as Record<string, string>, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  } catch (e) {
    throw new ToolError(`cannot run ${argv[0]}: ${(e as Error).message}`);
  }
  const [code, stdout, stderr] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code: p.signalCode ? 128 + signalNumber(String(p.signalCode)) : code, stdout, stderr };
}

/** Run and require success; the error carries the program's last line of stderr. */
export function runOk(argv: string[], opts: RunOptions = {}, what?: string): RunResult {
  const r = run(argv, opts);
  if (r.code !== 0) {
    throw new ToolError(`${what ?? argv.join(" ")} failed: ${lastLine(r.stderr) || lastLine(r.stdout) || `exit status ${r.code}`}`);
  }
  return r;
}

/** Run with the caller's stdio (or the given fds) and return the exit status. */
export async function runInteractive(
  argv: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; stdio?: ["inherit" | "ignore" | number, "inherit" | "ignore" | number, "inherit" | "ignore" | number] } = {},
): Promise<number> {
  const [i, o, e] = opts.stdio ?? ["inherit", "inherit", "inherit"];
  const child = Bun.spawn(argv, {
    cwd: opts.cwd,
    env: (opts.env ?? process.env) as Record<string, string>,
    stdin: i,
    stdout: o,
    stderr: e,
  });
  // While a child owns the terminal, the interrupt belongs to it; we only wait for its status.
  const ignore = () => {};
  process.on("SIGINT", ignore);
  process.on("SIGQUIT", ignore);
  try {
    const code = await child.exited;
    return child.signalCode ? 128 + signalNumber(String(child.signalCode)) : code;
  } finally {
    process.off("SIGINT", ignore);
    process.off("SIGQUIT", ignore);
  }
}

export function lastLine(s: string): string {
  const lines = s.split("\n").map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? "";
}

const SIGNUMS: Record<string, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9,
  SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGCHLD: 17, SIGCONT: 18,
  SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26,
  SIGPROF: 27, SIGWINCH: 28, SIGIO: 29, SIGPWR: 30, SIGSYS: 31,
};

export function signalNumber(name: string): number {
  return SIGNUMS[name] ?? 1;
}

export function signalNameOf(num: number): string | undefined {
  return Object.entries(SIGNUMS).find(([, n]) => n === num)?.[0];
}

/** Locate a program on PATH (and the sbin directories root expects). */
export function which(name: string): string | undefined {
  const dirs = (process.env.PATH ?? "").split(":").concat(["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
  for (const d of dirs) {
    if (!d) continue;
    const p = `${d}/${name}`;
    try {
      const st = statSync(p);
      if (st.isFile() && st.mode & 0o111) return p;
    } catch {}
  }
  return undefined;
}

// `build -m debootstrap -d SUITE [-m MIRROR] [-- DEBOOTSTRAP-OPTIONS]`: a real Debian guest.
// Downloaded packages are kept in a cache under the state root (debootstrap --cache-dir), so a
// second build of the same suite downloads nothing.

import { mkdirSync, readdirSync, readFileSync, existsSync, appendFileSync } from "node:fs";
import { isTerminal } from "../terminal";
import { ToolError, UsageError } from "../../errors";
import { mirrorFromAptSources } from "../../pure/apt-sources";
import { run, runInteractive, which, lastLine } from "../process";

export interface DebootstrapArgs {
  suite: string;
  mirror?: string;
  script?: string;
  extra: string[];
}

export function parseDebootstrapArgs(args: string[]): DebootstrapArgs {
  const out: DebootstrapArgs = { suite: "", extra: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const val = () => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`debootstrap method: ${a} needs a value.`);
      return v;
    };
    if (a === "-d" || a === "--dist") out.suite = val();
    else if (a === "-m" || a === "--mirror") out.mirror = val();
    else if (a === "-s" || a === "--script") out.script = val();
    else if (a === "--") { out.extra = args.slice(i + 1); break; }
    else throw new UsageError(`debootstrap method: unknown argument '${a}' (expected -d SUITE [-m MIRROR] [-- DEBOOTSTRAP-OPTIONS]).`);
  }
  if (!out.suite) throw new UsageError("debootstrap method: -d SUITE is required (for example -d bookworm).");
  if (!/^[a-z][a-z0-9.-]*$/.test(out.suite)) throw new UsageError(`debootstrap method: '${out.suite}' is not a suite name.`);
  if (out.mirror && !/^(https?|file|ftp):\/\//.test(out.mirror)) throw new UsageError(`debootstrap method: '${out.mirror}' is not a mirror URL.`);
  return out;
}

export function hostMirror(defaultsDir: string): string {
  try {
    const m = readFileSync(`${defaultsDir}/apps/debootstrap/mirror`, "utf8").trim();
    if (m) return m;
  } catch {}
  const texts: string[] = [];
  for (const f of ["/etc/apt/sources.list"]) if (existsSync(f)) texts.push(readFileSync(f, "utf8"));
  const dir = "/etc/apt/sources.list.d";
  if (existsSync(dir)) for (const f of readdirSync(dir).sort()) if (/\.(list|sources)$/.test(f)) texts.push(readFileSync(`${dir}/${f}`, "utf8"));
  return mirrorFromAptSources(texts) ?? "http://deb.debian.org/debian";
}

export async function populateDebootstrap(root: string, a: DebootstrapArgs, opts: { cacheDir: string; defaultsDir: string; quiet: boolean; log: string }): Promise<void> {
  if (!which("debootstrap")) throw new ToolError("debootstrap is not installed; run 'make' or 'apt-get install debootstrap'.");
  const arch = run(["dpkg", "--print-architecture"]).stdout.trim() || "amd64";
  const cache = `${opts.cacheDir}/debootstrap/${a.suite}-${arch}`;
  mkdirSync(cache, { recursive: true, mode: 0o755 });
  const mirror = a.mirror ?? hostMirror(opts.defaultsDir);
  const variant = a.extra.some((x) => x.startsWith("--variant")) ? [] : ["--variant=minbase"];
  const argv = ["debootstrap", `--cache-dir=${cache}`, ...variant, ...a.extra, a.suite, root, mirror, ...(a.script ? [a.script] : [])];
  const show = !opts.quiet && isTerminal(1);
  if (show) {
    const code = await runInteractive(argv, { stdio: ["ignore", "inherit", "inherit"] });
    if (code !== 0) throw new ToolError(`debootstrap of '${a.suite}' from ${mirror} failed with exit status ${code}.`);
    return;
  }
  const r = run(argv, { timeout: 3600 });
  try { appendFileSync(opts.log, r.stdout + r.stderr); } catch {}
  if (r.code !== 0) {
    throw new ToolError(`debootstrap of '${a.suite}' from ${mirror} failed: ${lastLine(r.stderr) || lastLine(r.stdout) || `exit status ${r.code}`} (full output in ${opts.log}).`);
  }
}

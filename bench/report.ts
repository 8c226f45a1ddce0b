// bench/report.ts RESULTS_DIR OUT.md [FAILED-FIGURES]: BENCHMARKS.md from the run's hyperfine JSON
// (pooled over rounds) and the density/build records.
import { readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";

const [dir, out, failedArg = ""] = process.argv.slice(2);
if (!dir || !out) throw new Error("usage: report.ts RESULTS_DIR OUT.md [FAILED]");
const failed = failedArg.trim().split(/\s+/).filter(Boolean);
const readJson = (f: string) => JSON.parse(readFileSync(`${dir}/${f}`, "utf8"));
const jsonl = (f: string): any[] => existsSync(`${dir}/${f}`) ? readFileSync(`${dir}/${f}`, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
const m0 = existsSync(`${dir}/machine-start.json`) ? readJson("machine-start.json") : {};
const m1 = existsSync(`${dir}/machine-end.json`) ? readJson("machine-end.json") : {};

interface Row { name: string; times: number[]; rounds: number[]; cpu: number[] }
const quant = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const i = (s.length - 1) * q, lo = Math.floor(i), hi = Math.ceil(i);
  return s[lo]! + (s[hi]! - s[lo]!) * (i - lo);
};
const med = (xs: number[]) => quant(xs, 0.5);

// figure.tag -> rows in the order hyperfine ran them
const groups = new Map<string, Map<string, Row>>();
for (const f of readdirSync(dir).sort()) {
  const m = /^(\w+)\.([\w-]+)\.r(\d+)\.json$/.exec(f);
  if (!m) continue;
  const key = `${m[1]}.${m[2]}`;
  if (!groups.has(key)) groups.set(key, new Map());
  const g = groups.get(key)!;
  for (const r of readJson(f).results) {
    const ms = (r.times as number[]).map((t) => t * 1000);
    if (!g.has(r.command)) g.set(r.command, { name: r.command, times: [], rounds: [], cpu: [] });
    const row = g.get(r.command)!;
    row.times.push(...ms);
    row.rounds.push(med(ms));
    row.cpu.push((r.user + r.system) * 1000);
  }
}
const row = (key: string, name: string) => groups.get(key)?.get(name);
const M = (key: string, name: string) => { const r = row(key, name); return r ? med(r.times) : NaN; };
const C = (key: string, name: string) => { const r = row(key, name); return r ? med(r.cpu) : NaN; };
const f1 = (x: number) => Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)) : "–";
const fr = (x: number) => Number.isFinite(x) ? `${x.toFixed(2)}×` : "–";
const cmdOf = (key: string) => existsSync(`${dir}/${key}.cmd`) ? readFileSync(`${dir}/${key}.cmd`, "utf8").trim() : "";

function table(key: string, baseline: (name: string) => string | undefined, unit = "ms"): string {
  const g = groups.get(key);
  if (!g) return "_not measured in this run_\n";
  const lines = [`| command | median ${unit} | p10 | p90 | best / worst round median | samples | CPU ms (user+sys) | × baseline |`, "|---|---:|---:|---:|---:|---:|---:|---:|"];
  for (const r of g.values()) {
    const b = baseline(r.name);
    const ratio = b === r.name ? "**1.00× (baseline)**" : b ? `${fr(med(r.times) / M(key, b))} ${b.split(" (")[0]}` : "";
    const bestWorst = r.rounds.length > 1 ? `${f1(Math.min(...r.rounds))} / ${f1(Math.max(...r.rounds))}` : "–";
    lines.push(`| \`${r.name}\` | ${f1(med(r.times))} | ${f1(quant(r.times, 0.1))} | ${f1(quant(r.times, 0.9))} | ${bestWorst} | ${r.times.length} | ${f1(med(r.cpu))} | ${ratio} |`);
  }
  return lines.join("\n") + "\n";
}

const md: string[] = [];
const P = (s = "") => md.push(s);
P("# Benchmarks");
P();
P(`Written by \`bench/run${m0.quick === "1" ? " --quick" : ""}\` (\`make bench${m0.quick === "1" ? " QUICK=1" : ""}\`) on ${m0.date ?? "?"}, commit ${m0.commit ?? "?"}. ` +
  `${m0.quick === "1" ? "**Quick mode: small counts and few repetitions; indicative only.** " : ""}` +
  "Every figure is taken side by side with its baselines in the same hyperfine call (`-N`, 2 warm-up runs), " +
  `repeated in ${m0.rounds ?? "?"} round(s); the tables give the median of all samples, p10/p90, and the best and worst round medians. ` +
  "The machine is a noisy shared VM: **other engineers' integration tests may have been running during this run** " +
  `(load average ${m0.load ?? "?"} at the start, ${m1.load_end ?? "?"} at the end).`);
if (existsSync(`${dir}/redo.json`)) {
  const r = readJson("redo.json");
  P(`\nOnly the figures ${r.redone} were run at this date and commit (\`bench/run --only\`); the others are from the run of ${r.previous?.date ?? "?"} at commit ${r.previous?.commit ?? "?"} (load average ${r.previous?.load ?? "?"} at its start).`);
}
if (failed.length) P(`\n**Figures that failed in this run: ${failed.join(", ")}.**`);
if (process.env.BENCH_NOTE) P(`\n${process.env.BENCH_NOTE}`);
P();
P("## Machine");
P();
P(`${m0.cpu} vCPU (${m0.model}), ${m0.mem_mb} MB RAM, ${m0.os}, Linux ${m0.kernel}; hybrid cgroups (v1 controllers, cgroup2 with hugetlb only at /sys/fs/cgroup/unified). ` +
  `${m0.crun}; ${m0.runc}; lxc ${m0.lxc}; ${m0.podman}; ${m0.nspawn}; ${m0.hyperfine}; Bun ${m0.bun}; node ${m0.node}.`);
P();
P("crun 1.8 refuses this hybrid host, so every raw-crun, runc and podman baseline runs through `nsenter --mount=VIEW`, a kept mount namespace of the benchmark's own in which a private tmpfs hides cgroup2 " +
  "(baselines.md §7 A) — the hiding `vserver` does for its own view (which binds a directory of its own there instead of a tmpfs). The row `nsenter --mount=VIEW /bin/true` shows what that wrapper costs (~1 ms). " +
  "The raw-crun containers use the `config.json` our `vserver start` wrote for the busybox guest (same root, namespaces, mounts, our guest init as PID 1 running the same rc scripts, capabilities), with their own id and cgroup parent `/vsbench-crun`.");
P();

// ---------------- budget ----------------
const E = "exec.all", S = "startstop.all";
const ex = M(E, "vserver bb exec /bin/true"), crunEx = M(E, "crun exec (nsenter to its view)"), podEx = M(E, "podman exec");
const ss = M(S, "vserver start + stop"), crunSS = M(S, "crun run -d + delete -f (nsenter to its view)"), podSS = M(S, "podman run -d + rm -f");
const dens = jsonl("density.jsonl");
const levels = dens.filter((d) => !d.phase);
const vsTop = levels.filter((d) => d.who === "vserver").at(-1), crTop = levels.filter((d) => d.who === "crun").at(-1);
const viewKeys = [...groups.keys()].filter((k) => k.startsWith("views.")).sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)));
const topView = viewKeys.at(-1), topN = topView ? topView.slice(7) : "?";
const vstat = topView ? M(topView, `vserver-stat (${topN} guests)`) / M(topView, `ps ax (${topN} guests)`) : NaN;
const vpsr = topView ? M(topView, `vps ax (${topN} guests)`) / M(topView, `ps ax (${topN} guests)`) : NaN;
const perGuest = (d: any, k: string) => d ? d[k] / d.n : NaN;
// memory per guest: the guests' user pages (memcg usage minus its kmem part) plus the kernel's own
// growth (Slab + PageTables + KernelStack), both after drop_caches; Δ used is shown but too noisy here.
const memOf = (d: any) => d ? (d.memcg_kb - d.kmem_kb + d.kern_kb) / d.n : NaN;
const memRatio = memOf(vsTop) / memOf(crTop);
const usedRatio = perGuest(vsTop, "used_kb") / perGuest(crTop, "used_kb");
const ok = (b: boolean | undefined) => b === undefined ? "–" : b ? "**met**" : "**missed**";
const fin = (...x: number[]) => x.every(Number.isFinite);
P("## Budget (issue 6)");
P();
P("| budget | measured | verdict |");
P("|---|---|---|");
P(`| exec ≤ 2.5× \`crun exec\` | ${f1(ex)} ms vs ${f1(crunEx)} ms = ${fr(ex / crunEx)} | ${ok(fin(ex, crunEx) ? ex / crunEx <= 2.5 : undefined)} |`);
P(`| exec ≥ 5× faster than \`podman exec\` | ${f1(podEx)} / ${f1(ex)} ms = ${fr(podEx / ex)} faster | ${ok(fin(ex, podEx) ? podEx / ex >= 5 : undefined)} |`);
P(`| start+stop ≤ 3× \`crun run -d\` + \`crun delete -f\` | ${f1(ss)} ms vs ${f1(crunSS)} ms = ${fr(ss / crunSS)} | ${ok(fin(ss, crunSS) ? ss / crunSS <= 3 : undefined)} |`);
P(`| start+stop ≥ 5× faster than podman run -d + rm -f | ${f1(podSS)} / ${f1(ss)} ms = ${fr(podSS / ss)} faster | ${ok(fin(ss, podSS) ? podSS / ss >= 5 : undefined)} |`);
P(`| 1000 running guests | ${vsTop ? `${vsTop.running} running at level ${vsTop.n}, ${vsTop.fail} failures` : "–"} | ${ok(vsTop ? vsTop.n >= 1000 && vsTop.running >= 1000 && vsTop.fail === 0 : undefined)}${vsTop && vsTop.n < 1000 ? " (level below 1000 in this run)" : ""} |`);
P(`| memory per guest ≤ 1.2× raw crun's (user pages from memcg + Δ kernel Slab/PageTables/KernelStack, after drop_caches) | ${f1(memOf(vsTop))} KiB vs ${f1(memOf(crTop))} KiB = ${fr(memRatio)} (Δ MemTotal−MemAvailable: ${fr(usedRatio)}, noisy) | ${ok(fin(memRatio) ? memRatio <= 1.2 : undefined)} |`);
P(`| zero resident helper processes per guest | ${vsTop ? `${vsTop.helpers} outside the guests with ${vsTop.n} running` : "–"} | ${ok(vsTop ? vsTop.helpers === 0 : undefined)} |`);
P(`| \`vserver-stat\` with ${topN} guests ≤ 1.5× \`ps ax\` | ${fr(vstat)} | ${ok(fin(vstat) ? vstat <= 1.5 : undefined)}${topN !== "500" ? ` (${topN} guests in this run)` : ""} |`);
P(`| \`vps ax\` with ${topN} guests ≤ 1.5× \`ps ax\` | ${fr(vpsr)} | ${ok(fin(vpsr) ? vpsr <= 1.5 : undefined)}${topN !== "500" ? ` (${topN} guests in this run)` : ""} |`);
P();

// ---------------- figures ----------------
P("## 1. exec into a running busybox guest");
P();
P(table(E, (n) => n.startsWith("vserver") || n.startsWith("our exec") ? undefined : "crun exec (nsenter to its view)"));
P("The ratio column is against `crun exec` through the same kind of kept view our commands use; `vserver bb exec` itself is against it in the budget table.");
P();
{
  const ARGV = "our exec argv (nsenter + crun exec --no-new-privs)", SLOW = "vserver bb exec /bin/true, without the service (VSERVER_SERVICE=off)";
  const running = M(E, "vserver bb running"), argv = M(E, ARGV), slow = M(E, SLOW);
  const cr = C(E, "vserver bb running"), ca = C(E, ARGV), ce = C(E, "vserver bb exec /bin/true"), cs = C(E, SLOW);
  if (fin(running, ex)) {
    P("**Where the time of `vserver bb exec /bin/true` goes** (differences of medians of rows in the same run; each row is a whole process, so the split is approximate):");
    P();
    P("| part | wall ms | share | CPU ms (user+sys) | share |");
    P("|---|---:|---:|---:|---:|");
    // exec goes through the guest's own init (docs/architecture.md): no runtime call in the path.
    const parts: [string, number, number][] = [
      ["the client, a worker that has served before, run record read, PID 1 check (`vserver bb running`)", running, cr],
      ["a worker that has served nothing yet (cold code, and back to back, the start of its successor beside it), loading the guest's config, the request to the guest's init, its fork and exec, the journal line (rest)", ex - running, ce - cr],
    ];
    for (const [k, v, c] of parts) P(`| ${k} | ${f1(v)} | ${((100 * v) / ex).toFixed(0)}% | ${f1(c)} | ${((100 * c) / ce).toFixed(0)}% |`);
    P(`| **total** | **${f1(ex)}** | | **${f1(ce)}** | |`);
    P();
    P("CPU time (hyperfine's user+sys of the process tree, median of round means) is less disturbed by other load than wall time; on a busy machine the wall-time split can even go negative. It counts the client only: the worker is the service's child, not the client's.");
    P();
    P("`running` is one of the views a worker serves and then waits again (service/reusable.ts); exec ends its worker, so each exec is served by a fresh one and, back to back, a successor starts beside it (docs/architecture.md).");
    P();
    if (fin(argv)) {
      P(`For comparison, the runtime's exec that \`VSERVER_EXEC=runtime\` (and a terminal) takes: \`nsenter --mount=VIEW crun exec --no-new-privs bb /bin/true\` run directly costs ${f1(argv)} ms (CPU ${f1(ca)} ms).`);
      P();
    }
    if (fin(slow)) {
      P(`The same exec through the TypeScript command (\`VSERVER_SERVICE=off\`, the path every call takes when the service is absent or the caller is not root) takes ${f1(slow)} ms (CPU ${f1(cs)} ms) = ${fr(slow / crunEx)} of \`crun exec\`: Bun's own start is about one whole \`crun exec\` (figure 6). The host service (docs/architecture.md) exists for this.`);
      P();
    }
  }
}
P("## 2. start + stop of a busybox guest");
P();
P(table(S, (n) => n.startsWith("vserver") ? undefined : "crun run -d + delete -f (nsenter to its view)"));
if (groups.has("startstop.alone")) {
  P(`The same with \`bb\` stopped, so the guest is the host's only one: its start makes our runtime view (unshare + mount) and its stop releases it, (same run, right after): ${f1(M("startstop.alone", "vserver start + stop, the only guest (view made and released)"))} ms median = ${fr(M("startstop.alone", "vserver start + stop, the only guest (view made and released)") / crunSS)} of crun.`);
  P();
}
P("`vserver start` does more than `crun run -d`: it reads and checks the guest's config, takes the guest's lock, writes the bundle, the run record and the journal line, and waits for the guest's init start command (`/etc/init.d/rc 3` for the sysv busybox guest), which our guest init runs as PID 1's first child; `stop` has the guest init run `rc 6`, then the kill sequence, `crun delete -f` and the teardown. Both are served by the host service; the other row is the same pair with `VSERVER_SERVICE=off` (each call pays the JavaScript runtime's start).");
P("`systemd-nspawn` has no detached mode without systemd here: its row is start-to-exit of `/bin/true`. Every row runs in `sh -c`, so all pay the same ~1 ms shell.");
P();
P("## 3. density");
P();
if (levels.length) {
  P(`Guests started ${levels[0]?.par ?? 2} at a time (xargs -P). vserver guests are \`build -m clone -s bb\` copies of the busybox guest (their build time is listed, not part of the figure); the raw-crun containers share the busybox root. Every start and stop is served by the host service. ` +
    "Memory per guest = the guests' user pages (their parent memory cgroup's `memory.usage_in_bytes` minus `memory.kmem.usage_in_bytes`) + the growth of the kernel's Slab + PageTables + KernelStack in /proc/meminfo (namespaces, mounts, cgroups, page tables), both read after `sync; echo 3 > drop_caches`, against the values before the first start, divided by the number of guests. " +
    "Δ(MemTotal − MemAvailable) is shown too, but on this shared machine other work moves it by hundreds of MB. " +
    "Helpers: processes outside the guests' cgroups whose command line or environment names this run's state root — the resident processes a guest costs outside itself. " +
    "Δ used also moves with whatever else runs on the machine, so small levels are noisy.");
  P();
  P("| who | guests | failures | running | start total s | start per guest ms | build total s (sequential) | **memory per guest KiB** | memcg user per guest KiB | Δ kernel per guest KiB | Δ slab MB | Δ used MB (per guest KiB) | helpers |");
  P("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const d of levels) {
    P(`| ${d.who} | ${d.n} | ${d.fail} | ${d.running} | ${d.start_s.toFixed(2)} | ${f1((1000 * d.start_s) / d.new)} | ${d.build_s !== undefined ? d.build_s.toFixed(1) : "–"} | **${f1(memOf(d))}** | ${f1((d.memcg_kb - d.kmem_kb) / d.n)} | ${f1(d.kern_kb / d.n)} | ${(d.slab_kb / 1024).toFixed(0)} | ${(d.used_kb / 1024).toFixed(0)} (${f1(d.used_kb / d.n)}) | ${d.helpers}${d.helper_list ? ` (${d.helper_list})` : ""} |`);
  }
  P();
  const errs = existsSync(`${dir}/density-errors.txt`) ? readFileSync(`${dir}/density-errors.txt`, "utf8").trim().split("\n").filter(Boolean) : [];
  if (errs.length) {
    P(`Failures reported by our commands during the density run (${errs.length} lines; first 10):`);
    P();
    P("```");
    for (const e of errs.slice(0, 10)) P(e.replaceAll(dir.replace(/\/results$/, ""), "$W"));
    P("```");
    P();
  }
  P("Teardown and host check:");
  P();
  P("| who | guests | stop total s (per guest ms) | delete total s (per guest ms) | failures | left running | guests / cgroups / mounts / processes left | Δ used after, MB |");
  P("|---|---:|---:|---:|---:|---:|---|---:|");
  for (const d of dens.filter((x) => x.phase === "teardown")) {
    const pg = (s: number | undefined) => s === undefined ? "–" : `${s.toFixed(1)} (${f1((1000 * s) / d.n)})`;
    P(`| ${d.who} | ${d.n} | ${pg(d.stop_s)} | ${pg(d.delete_s)} | ${d.fail} | ${d.running_left} | ${d.guests_left ?? "–"} / ${d.cgroups_left} / ${d.mounts_left} / ${d.procs_left ?? "–"} | ${(d.used_after_kb / 1024).toFixed(0)} |`);
  }
  P();
} else P("_not measured in this run_\n");
P("## 4. views: vserver-stat and vps ax against ps ax");
P();
for (const k of viewKeys) {
  const n = k.slice(7);
  P(`With ${n} guests running:`);
  P();
  P(table(k, () => `ps ax (${n} guests)`));
  P("Both views are served warm by the host service; the other rows are the same commands with `VSERVER_SERVICE=off`.");
  P();
}
if (!viewKeys.length) P("_not measured in this run_\n");
P("## 5. build");
P();
{
  const src = jsonl("build.jsonl")[0];
  if (src) P(`Clone source: the ${src.source === "deb" ? "debootstrapped (bookworm minbase)" : "busybox"} guest \`${src.source}\`, ${(src.size_kb / 1024).toFixed(0)} MB. Debootstrap runs offline: the test suite's package cache is served as a local \`file://\` mirror (\`--no-check-gpg\`).`);
  P();
  P(table("build.small", (n) => n.includes("busybox") ? "cp -a (busybox guest tree)" : [...(groups.get("build.small")?.keys() ?? [])].find((k) => k.startsWith("cp -a (") && !k.includes("busybox"))));
  if (groups.has("build.debootstrap")) {
    P("From the package cache (one round):");
    P();
    P(table("build.debootstrap", (n) => n.startsWith("cp") ? undefined : "debootstrap --variant=minbase (same mirror)"));
  } else P("`build -m debootstrap`: not measured in this run (quick mode, or no package cache).\n");
}
P("## 6. command start-up");
P();
P(table("startup.all", (n) => n === "/bin/true" ? undefined : "bun -e 0"));
P();
P("## 7. network: a guest's TCP path in shared, routed and bridge mode against the host's own");
P();
if (existsSync(`${dir}/network.md`)) {
  P(readFileSync(`${dir}/network.md`, "utf8").trimEnd());
  P();
  P("`bench/network.sh`: iperf3 (throughput) and 64-byte request/answer round trips on one connection, from each guest's network context (its namespace, or for shared its socket cgroup) to a peer namespace the script makes; rounds alternate across the rows, each cell the median of the rounds (docs/networking.md, \"Speed\").");
} else P("_not measured in this run_");
P();
P("## Exact commands");
P();
P("Set up by `bench/run`: a state root `VSERVER_ROOT=/tmp/vsbench.*/root` with the busybox guest `bb` (`vserver bb build -m busybox`, started), the view `unshare --mount=VIEW --propagation slave mount -t tmpfs ... /sys/fs/cgroup/unified`, " +
  "an LXC busybox container (`lxc-create -t busybox`, `lxc.net.0.type = empty`, `lxc.apparmor.profile = unconfined`), podman with `--network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 --rootfs`. " +
  "hyperfine runs with `VSERVER_ROOT` in its environment. The density figure is `bench/density.sh` (shell loops over xargs, timed with `date`).");
P();
for (const k of [...groups.keys()].sort()) {
  const c = cmdOf(k);
  if (c) { P(`\`${k}\`:`); P("```sh"); P(c); P("```"); }
}
writeFileSync(out, md.join("\n") + "\n");
console.error(`wrote ${out}`);

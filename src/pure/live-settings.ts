// The pure parts of vuname, vlimit and vattribute: which settings exist, which of them today's
// kernel can change in a running guest, how values are written and shown (reference §1.2, §2.2).


// ---- vuname ----------------------------------------------------------------------------------

/** util-vserver's tags, in its order (src/vuname.c UTS_STRINGS). */
export const UTS_TAGS = ["context", "sysname", "nodename", "release", "version", "machine", "domainname"] as const;
export type UtsTag = (typeof UTS_TAGS)[number];

/** Fields a UTS namespace holds per guest; the rest are the host kernel's and cannot differ. */
export const LIVE_UTS_TAGS: readonly UtsTag[] = ["nodename", "domainname"];

/** Why a tag cannot be set; undefined when it can. */
export function utsRefusal(tag: UtsTag): string | undefined {
  if (tag === "context") return "'context' is not a kernel field here: it is the guest's config directory, fixed by where the guest lives.";
  if (!LIVE_UTS_TAGS.includes(tag)) {
    return `'${tag}' comes from the host's kernel; a UTS namespace has its own nodename and domainname only, so it cannot be set per guest (not live, not at the next start).`;
  }
  return undefined;
}

/** A tag name as util-vserver accepts it: any case, and any unique prefix (strncasecmp). */
export function parseUtsTag(raw: string): UtsTag | undefined {
  const low = raw.toLowerCase();
  if (!low) return undefined;
  return UTS_TAGS.find((t) => t === low) ?? UTS_TAGS.find((t) => t.startsWith(low));
}

/** Why a host name or domain name value is unusable; undefined when fine. */
export function utsValueProblem(tag: UtsTag, value: string): string | undefined {
  if (tag === "nodename" && value.length === 0) return "a node name cannot be empty";
  if (value.length > 64) return "longer than 64 characters";
  if (/[\s/\\]/.test(value)) return "spaces, slashes and backslashes are not allowed";
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) return "control characters are not allowed";
  return undefined;
}

// ---- vlimit ----------------------------------------------------------------------------------

/**
 * How each of util-vserver's resources maps onto today's kernel:
 * - guest: one limit for the whole guest, in its cgroup (changed live, config in rlimits/ or cgroup/);
 * - process: a per-process rlimit, changed live with prlimit on every process of the guest
 *   (config in ulimits/, applied to PID 1 at start and inherited);
 * - none: the VServer kernel counted it per context; nothing does today.
 */
export type ResourceKind = "guest" | "process" | "none";

export interface ResourceInfo {
  name: string;
  kind: ResourceKind;
  /** For guest memory limits: values are in pages of 4 KiB, as util-vserver counts them. */
  pages?: boolean;
  /** prlimit(1) option for process limits. */
  prlimit?: string;
  /** /proc/PID/limits row label for process limits. */
  procLabel?: string;
  what: string;
}

export const PAGE_SIZE = 4096;

export const RESOURCES: ResourceInfo[] = [
  { name: "cpu", kind: "process", prlimit: "cpu", procLabel: "Max cpu time", what: "CPU seconds per process" },
  { name: "fsize", kind: "process", prlimit: "fsize", procLabel: "Max file size", what: "file size in bytes" },
  { name: "data", kind: "process", prlimit: "data", procLabel: "Max data size", what: "data segment in bytes" },
  { name: "stack", kind: "process", prlimit: "stack", procLabel: "Max stack size", what: "stack in bytes" },
  { name: "core", kind: "process", prlimit: "core", procLabel: "Max core file size", what: "core files in bytes" },
  { name: "rss", kind: "guest", pages: true, what: "memory of the whole guest in pages (cgroup memory limit)" },
  { name: "nproc", kind: "guest", what: "processes (tasks) of the whole guest (cgroup pids.max)" },
  { name: "nofile", kind: "process", prlimit: "nofile", procLabel: "Max open files", what: "open files per process" },
  { name: "memlock", kind: "process", prlimit: "memlock", procLabel: "Max locked memory", what: "locked memory in bytes" },
  { name: "as", kind: "guest", pages: true, what: "memory of the whole guest in pages (the same cgroup limit as rss)" },
  { name: "locks", kind: "process", prlimit: "locks", procLabel: "Max file locks", what: "file locks per process" },
  { name: "msgqueue", kind: "process", prlimit: "msgqueue", procLabel: "Max msgqueue size", what: "POSIX message queue bytes" },
  { name: "cpu-shares", kind: "guest", what: "CPU weight of the whole guest (cgroup cpu.shares, 2..262144, default 1024)" },
  ...["nsock", "openfd", "anon", "shmem", "semary", "nsems", "dentry"].map((name) => ({ name, kind: "none" as const, what: "" })),
];

export function resourceInfo(name: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.name === name);
}

export function resourceRefusal(r: ResourceInfo): string {
  return `--${r.name}: the VServer kernel counted this per context; no kernel today has a per-guest '${r.name}' limit, so it cannot be set (not live, not at the next start).`;
}

/** A limit value: a number (decimal or 0x hex), or inf/infinity/unlimited. undefined = infinite. */
export function parseLimitValue(raw: string): { ok: true; value: number | undefined } | { ok: false } {
  const s = raw.trim();
  if (/^(inf|infinity|unlimited|max|-1)$/i.test(s)) return { ok: true, value: undefined };
  let n: number;
  if (/^0x[0-9a-f]+$/i.test(s)) n = parseInt(s.slice(2), 16);
  else if (/^\d+$/.test(s)) n = Number(s);
  else return { ok: false };
  if (!Number.isSafeInteger(n)) return { ok: false };
  return { ok: true, value: n };
}

/** Limit values as shown by `vlimit -a`: hex (util-vserver's default) or decimal (-d), `inf`, `N/A`. */
export function formatLimitValue(v: number | undefined | null, decimal: boolean): string {
  if (v === null) return "N/A";
  if (v === undefined) return "inf";
  return decimal ? String(v) : `0x${v.toString(16)}`;
}

export interface LimitRow {
  name: string;
  /** null = not available (N/A), undefined = infinite. */
  min: number | undefined | null;
  soft: number | undefined | null;
  hard: number | undefined | null;
}

/**
 * One line of `vlimit -a` as util-vserver writes it (src/vlimit.c showAll): the name in upper case
 * from column 0, then "  value" fields starting at columns 10, 30 and 50 for min, soft and hard.
 */
export function formatLimitRow(row: LimitRow, decimal: boolean): string {
  const field = (v: number | undefined | null) => `  ${formatLimitValue(v, decimal)}`;
  const name = row.name.toUpperCase();
  return `${name.padEnd(10)}${field(row.min).padEnd(20)}${field(row.soft).padEnd(20)}${field(row.hard)}`;
}

/** cgroup v1 cpu.shares -> v2 cpu.weight, the conversion crun and runc use. */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

export function weightToShares(weight: number): number {
  return 2 + Math.floor(((weight - 1) * 262142) / 9999);
}

/** A cgroup memory limit in bytes (v1 unlimited is just below 2^63; v2 "max") -> pages, undefined = none. */
export function memoryBytesToPages(raw: string): number | undefined {
  const s = raw.trim();
  if (s === "max" || s === "-1") return undefined;
  const n = Number(s);
  if (!Number.isFinite(n) || n >= 2 ** 62) return undefined;
  return Math.floor(n / PAGE_SIZE);
}

/** Process limits from /proc/PID/limits: row label -> soft/hard (undefined = unlimited). */
export function parseProcLimits(text: string): Map<string, { soft: number | undefined; hard: number | undefined }> {
  const out = new Map<string, { soft: number | undefined; hard: number | undefined }>();
  for (const line of text.split("\n").slice(1)) {
    const m = /^(.+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = (x: string) => (x === "unlimited" ? undefined : Number(x));
    out.set(m[1]!.trim(), { soft: v(m[2]!), hard: v(m[3]!) });
  }
  return out;
}

// ---- vattribute ------------------------------------------------------------------------------

/**
 * Apply util-vserver list edits (`NAME`, `~NAME`, `!NAME`) to the lines of a config list file:
 * an earlier line about the same name is replaced, other lines and comments stay.
 */
export function editConfigList(content: string | undefined, edits: Array<{ name: string; negate: boolean }>, canon: (s: string) => string): string {
  const lines = content === undefined ? [] : content.split("\n");
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  let out = lines;
  for (const e of edits) {
    const key = canon(e.name);
    out = out.filter((l) => {
      const item = l.replace(/#.*$/, "").trim();
      if (!item) return true;
      const bare = item.startsWith("~") || item.startsWith("!") ? item.slice(1) : item;
      return canon(bare) !== key;
    });
    out.push(`${e.negate ? "~" : ""}${e.name}`);
  }
  return out.length ? out.join("\n") + "\n" : "";
}

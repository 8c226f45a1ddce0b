// The legacy /etc/vservers/NAME.conf of the original `vserver` package. It was sourced by a root
// shell; here it is read as KEY=value data and never executed, and mapped onto the settings of the
// directory layout, so that the one parser of guest configs (guest-config.ts) reads both. Lines
// that are shell code (if, case, command substitution, an unterminated quote, ...) cannot be read
// as data: a guest used from its NAME.conf is refused with the file and line, since skipping them
// would give the guest a config the original never did; `vserver NAME convert` reports and skips
// them, and the admin reviews the directory it writes.

import type { ConfigEntry } from "./tree";
import type { ConfigWarning } from "./known-keys";

export interface LegacyAssignment {
  value: string;
  /** 1-based line of the (last) assignment. */
  line: number;
}

export interface SkippedLine {
  line: number;
  text: string;
}

export interface LegacyConf {
  vars: Map<string, LegacyAssignment>;
  /** Lines that are not KEY=value data. */
  skipped: SkippedLine[];
}

export interface LegacyMapping extends LegacyConf {
  /** Settings of the directory layout, as convert writes them. */
  entries: Array<[string, ConfigEntry]>;
  /** For each setting in entries, the variable it came from. */
  origin: Map<string, string>;
  /** Variables, or parts of them, that have no setting here: one per variable, naming file, line and key. */
  warnings: ConfigWarning[];
}

/** The hook flavours the original called NAME.sh with (`NAME.sh FLAVOUR NAME`). */
export const LEGACY_SCRIPT_FLAVOURS = ["pre-start", "post-start", "pre-stop", "post-stop"] as const;

function unquote(v: string): string | undefined {
  const t = v.trim();
  if (t.startsWith('"') && t.endsWith('"') && t.length >= 2) {
    const inner = t.slice(1, -1);
    return /[`$]|(^|[^\\])"/.test(inner) ? undefined : inner.replace(/\\(["\\$`])/g, "$1");
  }
  if (t.startsWith("'") && t.endsWith("'") && t.length >= 2) {
    const inner = t.slice(1, -1);
    return inner.includes("'") ? undefined : inner;
  }
  if (/[`$;|&<>()\s"'\\]/.test(t)) return undefined;
  return t;
}

/** The file read as data: assignments with literal values, and every other line as skipped. */
export function readLegacyConf(text: string): LegacyConf {
  const vars = new Map<string, LegacyAssignment>();
  const skipped: SkippedLine[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    // A comment after a value: `KEY=value # note`, but not a '#' inside quotes.
    const value = m ? unquote(m[2]!.replace(/^((?:"[^"]*"|'[^']*'|[^\s"'#])*)\s+#.*$/, "$1")) : undefined;
    if (!m || value === undefined) {
      skipped.push({ line: i + 1, text: line });
      return;
    }
    vars.set(m[1]!, { value, line: i + 1 });
  });
  return { vars, skipped };
}

/** One line of text for a setting file. */
function file(content: string): ConfigEntry {
  return { kind: "file", content: content.endsWith("\n") ? content : content + "\n", executable: false };
}

/** Variables the original read that have no setting here, with the reason said once. */
const UNSUPPORTED: Record<string, string> = {
  PRIORITY: "start order is apps/init/depends here (start-vservers starts guests in that order)",
  PROFILE: "profiles chose between blocks of shell code, which is never run here",
  S_PROFILE: "profiles chose between blocks of shell code, which is never run here",
};

/** ulimit's option letters (bash) and the resource each sets. */
const ULIMIT_LETTERS: Record<string, string> = {
  c: "core", d: "data", e: "nice", f: "fsize", i: "sigpending", l: "memlock", m: "rss", n: "nofile",
  q: "msgqueue", r: "rtprio", s: "stack", t: "cpu", u: "nproc", v: "as", x: "locks",
};

/**
 * ULIMIT, the arguments the original gave `ulimit` before entering (default "-HS -u 1000"):
 * `-H`/`-S` (both when neither) for the whole command, then `-LETTER VALUE` pairs. With the
 * `nproc` flag, `-u` was the guest's process limit as a whole (util-vserver's reading too).
 */
function ulimitEntries(spec: string, wholeGuestNproc: boolean): { entries: Array<[string, ConfigEntry]>; unmapped: string[] } {
  const toks = spec.split(/\s+/).filter(Boolean);
  const entries: Array<[string, ConfigEntry]> = [];
  const unmapped: string[] = [];
  const modes = toks.filter((t) => /^-[A-Za-z]+$/.test(t)).join("");
  const hard = modes.includes("H");
  const soft = modes.includes("S");
  const suffix = hard === soft ? "" : hard ? ".hard" : ".soft";
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    const m = /^-[HS]*([a-z])$/.exec(t);
    if (!m) {
      if (!/^-[HS]+$/.test(t)) unmapped.push(t);
      continue;
    }
    const n = toks[i + 1];
    const res = ULIMIT_LETTERS[m[1]!];
    if (n === undefined || !/^(\d+|unlimited)$/.test(n) || !res) {
      unmapped.push(n !== undefined && /^(\d+|unlimited)$/.test(n) ? `${t} ${n}` : t);
      if (n !== undefined && /^(\d+|unlimited)$/.test(n)) i++;
      continue;
    }
    i++;
    const value = n === "unlimited" ? "inf" : n;
    entries.push([res === "nproc" && wholeGuestNproc ? "rlimits/nproc" : `ulimits/${res}${suffix}`, file(value)]);
  }
  return { entries, unmapped };
}

/** The legacy file mapped onto the directory layout's settings (what convert writes). */
export function legacyToEntries(text: string, path: string): LegacyMapping {
  const conf = readLegacyConf(text);
  const { vars } = conf;
  const entries: Array<[string, ConfigEntry]> = [];
  const origin = new Map<string, string>();
  const warnings: ConfigWarning[] = [];
  const v = (k: string) => vars.get(k)?.value.trim() || undefined;
  const at = (k: string) => `${path}:${vars.get(k)?.line ?? 0}`;
  const put = (key: string, rel: string, content: string) => {
    entries.push([rel, file(content)]);
    origin.set(rel, key);
  };

  if (v("S_CONTEXT")) put("S_CONTEXT", "context", v("S_CONTEXT")!);
  if (v("S_HOSTNAME")) put("S_HOSTNAME", "uts/nodename", v("S_HOSTNAME")!);
  if (v("S_DOMAINNAME") && v("S_DOMAINNAME") !== "none") put("S_DOMAINNAME", "uts/domainname", v("S_DOMAINNAME")!);
  if (v("S_NICE")) put("S_NICE", "nice", v("S_NICE")!);
  const flags = (v("S_FLAGS") ?? "").split(/\s+/).filter(Boolean);
  // fakeinit ran the guest's own /sbin/init as its PID 1; minit started it with minit.
  if (flags.includes("fakeinit")) put("S_FLAGS", "apps/init/style", "plain");
  else if (flags.includes("minit")) put("S_FLAGS", "apps/init/style", "minit");
  const cflags = flags.filter((f) => f !== "fakeinit" && f !== "minit");
  if (cflags.length) put("S_FLAGS", "cflags", cflags.join("\n"));
  const caps = (v("S_CAPS") ?? "").split(/\s+/).filter(Boolean);
  if (caps.length) put("S_CAPS", "bcapabilities", caps.join("\n"));
  const onboot = v("ONBOOT");
  if (onboot === "yes") put("ONBOOT", "apps/init/mark", "default");
  else if (onboot !== undefined && onboot !== "no") warnings.push({ file: at("ONBOOT"), message: `ONBOOT: '${onboot}' is neither yes nor no; the guest is not started at boot` });

  const ulimit = v("ULIMIT");
  if (ulimit) {
    const u = ulimitEntries(ulimit, flags.includes("nproc"));
    for (const [rel, e] of u.entries) {
      entries.push([rel, e]);
      origin.set(rel, "ULIMIT");
    }
    if (u.unmapped.length) warnings.push({ file: at("ULIMIT"), message: `ULIMIT: ${u.unmapped.map((x) => `'${x}'`).join(", ")} not applied (only '-LETTER VALUE' limits, with -H and -S, are read)` });
  }

  // IPROOT: space-separated [dev:]ip[/mask]; IPROOTDEV, IPROOTMASK, IPROOTBCAST apply to all.
  const iproot = (v("IPROOT") ?? "").split(/\s+/).filter((a) => a && a !== "0.0.0.0" && a !== "ALL");
  iproot.forEach((spec, idx) => {
    const dir = `interfaces/${String(idx).padStart(2, "0")}`;
    const ip = (rel: string, key: string, content: string) => put(key, `${dir}/${rel}`, content);
    let rest = spec;
    let dev = v("IPROOTDEV");
    let devKey = "IPROOTDEV";
    const colon = rest.indexOf(":");
    if (colon > 0 && !rest.includes("::") && /^[A-Za-z]/.test(rest)) {
      dev = rest.slice(0, colon);
      devKey = "IPROOT";
      rest = rest.slice(colon + 1);
    }
    const [addr, mask] = rest.split("/");
    ip("ip", "IPROOT", addr!);
    if (mask) ip(mask.includes(".") ? "mask" : "prefix", "IPROOT", mask);
    else if (v("IPROOTMASK")) ip("mask", "IPROOTMASK", v("IPROOTMASK")!);
    if (dev) ip("dev", devKey, dev);
    else ip("nodev", "IPROOT", "");
    if (v("IPROOTBCAST")) ip("bcast", "IPROOTBCAST", v("IPROOTBCAST")!);
  });

  const mapped = new Set(["S_CONTEXT", "S_HOSTNAME", "S_DOMAINNAME", "S_NICE", "S_FLAGS", "S_CAPS", "ONBOOT", "ULIMIT", "IPROOT", "IPROOTDEV", "IPROOTMASK", "IPROOTBCAST"]);
  for (const k of vars.keys()) {
    if (mapped.has(k)) continue;
    warnings.push({ file: at(k), message: `${k}: not supported: ${UNSUPPORTED[k] ?? "not a variable of the legacy config this version knows; it is ignored"}` });
  }
  return { ...conf, entries, origin, warnings };
}

/** Where a setting taken from the legacy file came from, for messages: `FILE:LINE: KEY`. */
export function legacyOriginOf(m: LegacyMapping, path: string): (rel: string) => string | undefined {
  return (rel) => {
    const key = m.origin.get(rel);
    return key === undefined ? undefined : `${path}:${m.vars.get(key)?.line ?? 0}: ${key}`;
  };
}

/** The sentence for a line that is not data, for a guest used from its NAME.conf. */
export function skippedLineMessage(path: string, s: SkippedLine, name: string): string {
  return `${path}:${s.line}: '${s.text.length > 60 ? s.text.slice(0, 57) + "..." : s.text}' is shell code, not a KEY=value setting; it is never run, so the file cannot be used as it is: remove the line, or run 'vserver ${name} convert' and edit the directory it writes.`;
}

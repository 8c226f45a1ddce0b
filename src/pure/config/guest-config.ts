// The typed view of one guest's config directory, and the pure function that builds it from the
// directory's contents plus /etc/vservers/.defaults. Every error names the file it came from.

import { ConfigError } from "../../errors";
import { applyCapabilityList, DEFAULT_CAPABILITIES, type CapName } from "./capabilities";
import { parseFstab, DEFAULT_FSTAB, type FstabEntry } from "./fstab";
import { childrenOf, settingText, type ConfigTree } from "./tree";
import { argv, hash, integer, limit, list, scalar } from "./values";
import { unsupportedWarnings, type ConfigWarning } from "./known-keys";
import { biasToShares, cpuShareOf } from "../sched";
import { ccapMeaning } from "./ccaps";
import { parsePersonality, type MachineSetting, type PersonalitySetting } from "./personality";
import { readSetting } from "./settings";
import { defaultExcludeList, parseExcludeList, type ExcludeList } from "../unify/exclude";
import { parseKillSeq, type KillStep } from "./killseq";
import { parseCflags, SUPPORTED_CFLAGS } from "./cflags";
import { isValidGuestName } from "../paths";

export const INIT_STYLES = ["sysv", "plain", "minit", "gentoo", "openrc", "arch"] as const;
export type InitStyle = (typeof INIT_STYLES)[number];

export interface Ulimit {
  /** OCI name, e.g. RLIMIT_NOFILE. */
  type: string;
  soft: number;
  hard: number;
}

export interface GuestConfig {
  name: string;
  cfgDir: string;
  /** Absolute path of the guest root. */
  vdir: string;
  context: number | undefined;
  nodename: string;
  domainname: string | undefined;
  initStyle: InitStyle;
  runlevelStart: string;
  runlevelStop: string;
  cmdStart: string[] | undefined;
  cmdStop: string[] | undefined;
  cmdPrepare: string[] | undefined;
  killSeq: KillStep[];
  /** apps/init/mark: the group start-vservers starts together ("default" at boot). */
  mark: string | undefined;
  /** apps/init/depends: guests that must run before this one (and stop after it). */
  depends: string[];
  environment: string[];
  capabilities: CapName[];
  cflags: Set<string>;
  nice: number | undefined;
  cpuShares: number | undefined;
  /** sched/fill-rate / sched/interval: a hard cap, this share of every CPU (pure/sched.ts). */
  cpuShare: number | undefined;
  /** Whole-guest process limit (cgroup pids.max); undefined = no limit. */
  pidsLimit: number | undefined;
  /** Whole-guest memory limit in bytes; undefined = the built-in default, null = explicitly none. */
  memoryLimit: number | null | undefined;
  ulimits: Ulimit[];
  /** cgroup/<file> settings written verbatim to the guest's cgroup. */
  cgroupFiles: Array<[string, string]>;
  sysctl: Array<[string, string]>;
  fstab: FstabEntry[];
  /** Own network namespace (spaces/net) even without interfaces. */
  netNamespace: boolean;
  /** apps/vunify/exclude (else .defaults', else util-vserver's list): what hashify keeps out of the store. */
  unifyExclude: ExcludeList;
  /** The dlimits/ directories (util-vserver's per-directory disk limits), by name. */
  diskLimits: string[];
  shell: string[] | undefined;
  seccomp: "default" | "unconfined";
  noNewPrivileges: boolean;
  /**
   * Own user namespace with the guest's id range (pure/id-range.ts); false only when the guest's
   * config has `security/privileged`, which makes guest root the host's root (docs/security.md).
   */
  userNamespace: boolean;
  /** `personality` and `uts/machine`: applied at start as the runtime's personality (pure/config/personality.ts). */
  personality?: PersonalitySetting;
  utsMachine?: MachineSetting;
  /**
   * security/abstract-sockets, for a guest on the host's stack: `refused` (no abstract unix
   * socket at all) or `scoped` (its own processes' only, through Landlock); docs/networking.md.
   */
  abstractSockets: { mode: "refused" | "scoped"; file: string };
  /**
   * Set when the settings come from a legacy NAME.conf (read as data) instead of the directory,
   * which then does not exist: cfgDir is where `convert` would write it. Settings are never
   * written into the legacy file (docs/configuration.md).
   */
  legacy?: LegacySource & {
    /** For each setting the file gave, where: `FILE:LINE: KEY` (settingFile). */
    origins: Record<string, string>;
  };
  warnings: ConfigWarning[];
}

export interface LegacySource {
  /** /etc/vservers/NAME.conf */
  conf: string;
  /** /etc/vservers/NAME.sh, the original's hook script (it may not exist). */
  script: string;
}

/** The file a setting of this guest is in, for messages: its directory's, or its NAME.conf's line and variable. */
export function settingFile(g: GuestConfig, rel: string): string {
  if (!g.legacy) return `${g.cfgDir}/${rel}`;
  return g.legacy.origins[rel] ?? g.legacy.conf;
}

/** Defaults applied to every guest that does not set its own (docs/configuration.md). */
export const BUILTIN_LIMITS = {
  pids: 4096,
  /** Half of the host's memory is decided at start from /proc/meminfo; this is a ceiling. */
  memoryFractionOfHost: 0.5,
  cpuShares: 1024,
};

const PAGE = 4096;

const RLIMIT_NAMES: Record<string, string> = {
  cpu: "RLIMIT_CPU", data: "RLIMIT_DATA", fsize: "RLIMIT_FSIZE", locks: "RLIMIT_LOCKS",
  memlock: "RLIMIT_MEMLOCK", nofile: "RLIMIT_NOFILE", nproc: "RLIMIT_NPROC", rss: "RLIMIT_RSS",
  stack: "RLIMIT_STACK", core: "RLIMIT_CORE", as: "RLIMIT_AS", msgqueue: "RLIMIT_MSGQUEUE",
  nice: "RLIMIT_NICE", rtprio: "RLIMIT_RTPRIO", sigpending: "RLIMIT_SIGPENDING",
};

export interface ConfigSources {
  name: string;
  cfgDir: string;
  /** The guest's directory. */
  guest: ConfigTree;
  /** /etc/vservers/.defaults (may be empty). */
  defaults: ConfigTree;
  /** Default vdir base, used when the guest has no `vdir` link. */
  vdirBase: string;
  /** The guest's settings came from a legacy NAME.conf: `guest` is its mapping (legacy-conf.ts). */
  legacy?: LegacySource & {
    /** Where a setting of `guest` came from, for messages (`FILE:LINE: KEY`). */
    origin: (rel: string) => string | undefined;
  };
}

/** Host and domain names: the host-name character set (RFC 1123, plus '_' that NIS domains use). */
const HOST_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * A guest's root: its `vdir` link (relative to the config directory), or a one-line `vdir` file
 * as some installations keep it, else `vdirBase/NAME`. Only the `vdir` entry of `guest` is read,
 * so a caller that needs every guest's root (delete's safety check) can read that entry alone.
 */
export function vdirOf(guest: ConfigTree, o: { cfgDir: string; vdirBase: string; name: string; file?: string }): string {
  const vdirLink = guest.get("vdir");
  let vdir = `${o.vdirBase}/${o.name}`;
  if (vdirLink?.kind === "link") {
    vdir = vdirLink.target.startsWith("/") ? vdirLink.target : `${o.cfgDir}/${vdirLink.target}`;
  } else if (vdirLink?.kind === "file") {
    const v = scalar(vdirLink.content);
    if (v) vdir = v;
  }
  const file = o.file ?? `${o.cfgDir}/vdir`;
  if (!vdir.startsWith("/")) throw new ConfigError(`${file}: the guest root must be an absolute path.`, { file });
  return vdir.replace(/\/+$/, "") || "/";
}

/** Whole-guest limits: the cgroup's pids.max takes at most PID_MAX_LIMIT; memory in 4 KiB pages. */
const RLIMIT_RANGE: Record<string, { max: number; what: string }> = {
  nproc: { max: 4194304, what: "processes" },
  rss: { max: 2 ** 40, what: "pages of 4 KiB" },
  as: { max: 2 ** 40, what: "pages of 4 KiB" },
};

export function parseGuestConfig(src: ConfigSources): GuestConfig {
  const { guest, defaults, cfgDir } = src;
  const file = (rel: string) => src.legacy?.origin(rel) ?? (src.legacy ? src.legacy.conf : `${cfgDir}/${rel}`);
  const defFile = (rel: string) => `${cfgDir}/../.defaults/${rel}`;
  /** The value of rel and the file it came from: the guest's, else the defaults'. */
  const lookup = (rel: string): { content: string; path: string } | undefined => {
    const g = settingText(guest, rel, file(rel));
    if (g !== undefined) return { content: g, path: file(rel) };
    if (!readSetting(rel).fromDefaults) return undefined;
    const d = settingText(defaults, rel, defFile(rel));
    if (d !== undefined) return { content: d, path: defFile(rel) };
    return undefined;
  };
  /** A setting of this guest alone (never from .defaults). */
  const own = (rel: string) => {
    if (readSetting(rel).fromDefaults) throw new Error(`internal: '${rel}' is read as the guest's own, but settings.ts lets it come from .defaults`);
    return settingText(guest, rel, file(rel));
  };
  const sc = (rel: string) => {
    const f = lookup(rel);
    return f ? { value: scalar(f.content), path: f.path } : undefined;
  };

  const name = scalar(own("name")) ?? src.name;

  const vdir = vdirOf(guest, { cfgDir, vdirBase: src.vdirBase, name: src.name, file: file("vdir") });

  const ctxRaw = scalar(own("context"));
  const context = ctxRaw === undefined ? undefined : integer(ctxRaw, file("context"), { min: 2, max: 49151, what: "a context number from 2 to 49151" });

  const ownNodename = scalar(own("uts/nodename"));
  const nodename = ownNodename ?? name;
  const domainname = scalar(own("uts/domainname"));
  // The host name comes from uts/nodename, else the `name` file, else the directory (a guest name).
  for (const [v, rel] of [[nodename, ownNodename !== undefined ? "uts/nodename" : "name"], [domainname, "uts/domainname"]] as const) {
    if (v !== undefined && !HOST_NAME_RE.test(v)) {
      throw new ConfigError(`${file(rel)}: ${JSON.stringify(v)} is not a host name (at most 64 letters, digits, '-', '_' and '.', starting with a letter or digit).`, { file: file(rel) });
    }
  }

  const styleSrc = sc("apps/init/style");
  const styleRaw = styleSrc?.value ?? "sysv";
  if (!(INIT_STYLES as readonly string[]).includes(styleRaw)) {
    throw new ConfigError(`${styleSrc!.path}: unknown init style '${styleRaw}' (one of ${INIT_STYLES.join(", ")}).`, { file: styleSrc!.path });
  }
  const initStyle = styleRaw as InitStyle;
  const runlevel = sc("apps/init/runlevel")?.value;
  const runlevelStart = sc("apps/init/runlevel.start")?.value ?? runlevel ?? (initStyle === "gentoo" || initStyle === "openrc" ? "default" : "3");
  const runlevelStop = sc("apps/init/runlevel.stop")?.value ?? "6";

  const killSrc = lookup("apps/init/killseq");
  const killSeq = parseKillSeq(killSrc?.content, killSrc?.path ?? file("apps/init/killseq"));

  const envSrc = lookup("apps/init/environment");
  const environment = envSrc
    ? hash(envSrc.content, envSrc.path).map(([k, v]) => `${k}=${v}`)
    : ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"];

  const excludeSrc = lookup("apps/vunify/exclude");

  const bcapSrc = lookup("bcapabilities");
  const ccapSrc = lookup("ccapabilities");
  const ccapWarnings: ConfigWarning[] = [];
  const fromCcaps: string[] = [];
  for (const raw of list(ccapSrc?.content)) {
    const negate = raw.startsWith("~") || raw.startsWith("!");
    const c = ccapMeaning(negate ? raw.slice(1) : raw);
    if (!c) throw new ConfigError(`${ccapSrc!.path}: '${raw}' is not a context capability.`, { file: ccapSrc!.path });
    if ("cap" in c.meaning) fromCcaps.push(`${negate ? "~" : ""}${c.meaning.cap}`);
    else ccapWarnings.push({ file: ccapSrc!.path, message: `not supported: ${c.name}: ${c.meaning.refused}` });
  }
  // Context capabilities that a Linux capability covers are read as it, after bcapabilities.
  const capabilities = applyCapabilityList(DEFAULT_CAPABILITIES, [...list(bcapSrc?.content), ...fromCcaps], bcapSrc?.path ?? file("bcapabilities"));

  const cflagSrc = lookup("cflags") ?? lookup("flags");
  const cflags = parseCflags(list(cflagSrc?.content), cflagSrc?.path ?? file("cflags"));

  const niceSrc = sc("nice");
  const nice = niceSrc?.value === undefined ? undefined : integer(niceSrc.value, niceSrc.path, { min: -20, max: 19 });

  // Limits: rlimits/ are whole-guest limits (memory in pages, as util-vserver counts them).
  const rl = (res: string) => {
    for (const suffix of ["", ".hard", ".soft"]) {
      const s = sc(`rlimits/${res}${suffix}`);
      if (s?.value !== undefined) return { value: limit(s.value, s.path, { min: 1, ...RLIMIT_RANGE[res]! }), set: true };
    }
    return { value: undefined, set: false };
  };
  const nproc = rl("nproc");
  const pidsLimit = nproc.set ? nproc.value : BUILTIN_LIMITS.pids;
  const rss = rl("rss");
  const as = rl("as");
  const memPages = [rss, as].filter((x) => x.set && x.value !== undefined).map((x) => x.value!);
  const memSet = rss.set || as.set;
  const memoryLimit = !memSet ? undefined : memPages.length ? Math.min(...memPages) * PAGE : null;

  let cpuShares: number | undefined;
  const sharesSrc = sc("cgroup/cpu.shares");
  if (sharesSrc?.value !== undefined) cpuShares = integer(sharesSrc.value, sharesSrc.path, { min: 2, max: 262144 });
  const sched = sc("sched/priority-bias");
  if (cpuShares === undefined && sched?.value !== undefined) {
    // A negative bias meant "more CPU" in the token-bucket scheduler; map it onto a weight.
    cpuShares = biasToShares(integer(sched.value, sched.path));
  }
  const fillRate = sc("sched/fill-rate");
  const interval = sc("sched/interval");
  let cpuShare: number | undefined;
  if ((fillRate?.value === undefined) !== (interval?.value === undefined)) {
    const has = fillRate?.value !== undefined ? fillRate : interval!;
    throw new ConfigError(`${has.path}: sched/fill-rate and sched/interval go together (the guest's share of each CPU is their ratio).`, { file: has.path });
  }
  if (fillRate?.value !== undefined && interval?.value !== undefined) {
    const fr = integer(fillRate.value, fillRate.path, { min: 1 });
    const iv = integer(interval.value, interval.path, { min: 1 });
    try {
      cpuShare = cpuShareOf(fr, iv, `${fillRate.path}, ${interval.path}`);
    } catch (e) {
      throw new ConfigError((e as Error).message, { file: fillRate.path });
    }
  }
  if (cpuShares === undefined && nice !== undefined) cpuShares = Math.round(1024 * Math.pow(1.25, -nice));

  const ulimits: Ulimit[] = [];
  for (const entry of childrenOf(mergedDir(guest, defaults, "ulimits"), "ulimits")) {
    const base = entry.replace(/\.(hard|soft)$/, "");
    const ociName = RLIMIT_NAMES[base];
    const rel = `ulimits/${entry}`;
    const s = sc(rel);
    if (!ociName) throw new ConfigError(`${file(rel)}: '${base}' is not a resource limit (one of ${Object.keys(RLIMIT_NAMES).join(", ")}).`, { file: file(rel) });
    if (s?.value === undefined) continue;
    const v = limit(s.value, s.path) ?? Number.MAX_SAFE_INTEGER;
    let u = ulimits.find((x) => x.type === ociName);
    if (!u) ulimits.push((u = { type: ociName, soft: v, hard: v }));
    if (entry.endsWith(".soft")) u.soft = v;
    else if (entry.endsWith(".hard")) u.hard = v;
    else { u.soft = v; u.hard = v; }
  }

  const cgroupFiles: Array<[string, string]> = [];
  for (const entry of childrenOf(mergedDir(guest, defaults, "cgroup"), "cgroup")) {
    if (["name", "mnt", "subsys", "inherit", "base", "per-ss"].includes(entry)) continue;
    const s = sc(`cgroup/${entry}`);
    if (s?.value === undefined) continue;
    if (!/^[a-z_]+\.[a-z_.]+$/.test(entry)) {
      throw new ConfigError(`${s.path}: '${entry}' does not look like a cgroup control file (controller.setting).`, { file: s.path });
    }
    cgroupFiles.push([entry, s.value]);
  }

  const sysctl: Array<[string, string]> = [];
  for (const d of childrenOf(guest, "sysctl")) {
    const setting = scalar(own(`sysctl/${d}/setting`));
    const value = scalar(own(`sysctl/${d}/value`));
    if (!setting || value === undefined) {
      throw new ConfigError(`${file(`sysctl/${d}`)}: needs both a 'setting' and a 'value' file.`, { file: file(`sysctl/${d}`) });
    }
    sysctl.push([setting, value]);
  }

  const fstabSrc = lookup("fstab");
  const fstab = parseFstab(fstabSrc?.content ?? DEFAULT_FSTAB, fstabSrc?.path ?? file("fstab"));

  const netNamespace = guest.has("spaces/net") && scalar(own("spaces/net")) !== "0";

  const shellSrc = sc("shell");
  const shell = shellSrc?.value ? shellSrc.value.split(/\s+/) : undefined;

  const secSrc = sc("security/seccomp");
  const seccompRaw = secSrc?.value ?? "default";
  if (seccompRaw !== "default" && seccompRaw !== "unconfined") {
    throw new ConfigError(`${secSrc!.path}: '${seccompRaw}' is not a seccomp setting (default or unconfined).`, { file: secSrc!.path });
  }

  const persSrc = lookup("personality");
  const pers = persSrc ? parsePersonality(persSrc.content, persSrc.path) : undefined;
  const machineSrc = sc("uts/machine");
  const persWarnings: ConfigWarning[] = pers?.flagsIgnored ? [{ file: persSrc!.path, message: "not supported: personality flags are not applied (only the type is)" }] : [];
  const absSrc = sc("security/abstract-sockets");
  const absMode = absSrc?.value ?? "refused";
  if (absMode !== "refused" && absMode !== "scoped") {
    throw new ConfigError(`${absSrc!.path}: '${absMode}' is not an abstract-socket setting (refused or scoped).`, { file: absSrc!.path });
  }

  return {
    name,
    cfgDir,
    ...(pers ? { personality: pers.setting } : {}),
    ...(machineSrc?.value ? { utsMachine: { value: machineSrc.value, file: machineSrc.path } } : {}),
    vdir,
    context,
    nodename,
    domainname,
    initStyle,
    runlevelStart,
    runlevelStop,
    cmdStart: argv(lookup("apps/init/cmd.start")?.content),
    cmdStop: argv(lookup("apps/init/cmd.stop")?.content),
    cmdPrepare: argv(lookup("apps/init/cmd.prepare")?.content),
    killSeq,
    mark: scalar(own("apps/init/mark")),
    depends: dependsOf(own("apps/init/depends"), file("apps/init/depends")),
    environment,
    capabilities,
    cflags,
    nice,
    cpuShares,
    cpuShare,
    pidsLimit,
    memoryLimit,
    ulimits,
    cgroupFiles,
    sysctl,
    fstab,
    netNamespace,
    unifyExclude: excludeSrc ? parseExcludeList(excludeSrc.content, excludeSrc.path) : defaultExcludeList(),
    diskLimits: [...new Set([...guest.keys()].filter((k) => k.startsWith("dlimits/") && k.split("/").length > 2).map((k) => k.split("/")[1]!))],
    shell,
    seccomp: seccompRaw,
    noNewPrivileges: !guest.has("security/allow-new-privileges"),
    userNamespace: !guest.has("security/privileged"),
    abstractSockets: { mode: absMode, file: absSrc?.path ?? file("security/abstract-sockets") },
    ...(src.legacy ? { legacy: legacyOf(src.legacy, guest) } : {}),
    warnings: [...ccapWarnings, ...persWarnings, ...unsupportedWarnings(guest, file), ...cflagWarnings(cflags, cflagSrc?.path ?? file("cflags"), netNamespace || [...guest.keys()].some((k) => k.startsWith("interfaces/")))],
  };
}

function legacyOf(l: NonNullable<ConfigSources["legacy"]>, guest: ConfigTree): NonNullable<GuestConfig["legacy"]> {
  const origins: Record<string, string> = {};
  for (const rel of guest.keys()) {
    const o = l.origin(rel);
    if (o !== undefined) origins[rel] = o;
  }
  return { conf: l.conf, script: l.script, origins };
}

/** One guest name per line (util-vserver also allows several on a line, separated by blanks). */
function dependsOf(content: string | undefined, path: string): string[] {
  const names = list(content).flatMap((l) => l.split(/\s+/));
  for (const n of names) {
    if (!isValidGuestName(n)) throw new ConfigError(`${path}: '${n}' is not a guest name.`, { file: path });
  }
  return [...new Set(names)];
}

/** The union of a directory in the guest's and the defaults' trees (for per-file fallbacks). */
function mergedDir(guest: ConfigTree, defaults: ConfigTree, dir: string): ConfigTree {
  const t: ConfigTree = new Map();
  for (const tree of [defaults, guest]) {
    for (const [k, v] of tree) if (k === dir || k.startsWith(dir + "/")) t.set(k, v);
  }
  return t;
}

/**
 * Flags that promise hiding the kernel cannot give here: said once, so that nobody relies on them
 * (docs/security.md). hide_netif holds only for guests with their own network namespace (interfaces/ or spaces/net).
 */
function cflagWarnings(cflags: Set<string>, path: string, ownNetwork: boolean): ConfigWarning[] {
  const out: ConfigWarning[] = [];
  for (const f of cflags) {
    if (!SUPPORTED_CFLAGS.has(f)) out.push({ file: path, message: `flag '${f}' is not supported on this kernel and has no effect` });
  }
  if (cflags.has("hide_netif") && !ownNetwork) {
    out.push({ file: path, message: "flag 'hide_netif' has no effect: this guest shares the host's network namespace and sees its interfaces" });
  }
  return out;
}

// The legacy /etc/vservers/NAME.conf of the original `vserver` package. It was sourced by a root
// shell; here it is read as KEY=value data and never executed. Lines that are shell code (if,
// case, command substitution, ...) are reported and skipped. `vserver NAME convert` writes the
// directory layout from the result.

import type { ConfigEntry } from "./tree";

export interface LegacyResult {
  vars: Map<string, string>;
  entries: Array<[string, ConfigEntry]>;
  warnings: string[];
}

function unquote(v: string): string | undefined {
  const t = v.trim();
  if (t.startsWith('"') && t.endsWith('"') && t.length >= 2) {
    const inner = t.slice(1, -1);
    return /[`$]/.test(inner) ? undefined : inner.replace(/\\(["\\])/g, "$1");
  }
  if (t.startsWith("'") && t.endsWith("'") && t.length >= 2) return t.slice(1, -1);
  if (/[`$;|&<>()\s]/.test(t)) return undefined;
  return t;
}

export function parseLegacyConf(text: string, file: string): { vars: Map<string, string>; warnings: string[] } {
  const vars = new Map<string, string>();
  const warnings: string[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/^\s*export\s+/, "").trim();
    if (!line || line.startsWith("#")) return;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    const value = m ? unquote(m[2]!.replace(/\s+#.*$/, "")) : undefined;
    if (!m || value === undefined) {
      warnings.push(`${file}:${i + 1}: shell code is not run; line skipped: ${line}`);
      return;
    }
    vars.set(m[1]!, value);
  });
  return { vars, warnings };
}

function file(content: string): ConfigEntry {
  return { kind: "file", content: content.endsWith("\n") ? content : content + "\n", executable: false };
}

export function legacyToEntries(text: string, path: string): LegacyResult {
  const { vars, warnings } = parseLegacyConf(text, path);
  const entries: Array<[string, ConfigEntry]> = [];
  const v = (k: string) => vars.get(k)?.trim() || undefined;

  if (v("S_CONTEXT")) entries.push(["context", file(v("S_CONTEXT")!)]);
  if (v("S_HOSTNAME")) entries.push(["uts/nodename", file(v("S_HOSTNAME")!)]);
  if (v("S_DOMAINNAME") && v("S_DOMAINNAME") !== "none") entries.push(["uts/domainname", file(v("S_DOMAINNAME")!)]);
  if (v("S_NICE")) entries.push(["nice", file(v("S_NICE")!)]);
  const flags = (v("S_FLAGS") ?? "").split(/\s+/).filter(Boolean);
  if (flags.includes("fakeinit")) entries.push(["apps/init/style", file("plain")]);
  const cflags = flags.filter((f) => f !== "fakeinit" && f !== "minit");
  if (cflags.length) entries.push(["cflags", file(cflags.join("\n"))]);
  const caps = (v("S_CAPS") ?? "").split(/\s+/).filter(Boolean);
  if (caps.length) entries.push(["bcapabilities", file(caps.join("\n"))]);
  if (v("ONBOOT") === "yes") entries.push(["apps/init/mark", file("default")]);

  const ulimit = v("ULIMIT");
  if (ulimit) {
    const toks = ulimit.split(/\s+/);
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i]!;
      const n = toks[i + 1];
      if (n === undefined || !/^(\d+|unlimited)$/.test(n)) continue;
      if (/^-[HS]*u$/.test(t)) entries.push([flags.includes("nproc") ? "rlimits/nproc" : "ulimits/nproc", file(n === "unlimited" ? "inf" : n)]);
      if (/^-[HS]*n$/.test(t)) entries.push(["ulimits/nofile", file(n === "unlimited" ? "inf" : n)]);
    }
  }

  // IPROOT: space-separated [dev:]ip[/mask]; IPROOTDEV, IPROOTMASK, IPROOTBCAST apply to all.
  const iproot = (v("IPROOT") ?? "").split(/\s+/).filter((a) => a && a !== "0.0.0.0" && a !== "ALL");
  iproot.forEach((spec, idx) => {
    const dir = `interfaces/${String(idx).padStart(2, "0")}`;
    let rest = spec;
    let dev = v("IPROOTDEV");
    const colon = rest.indexOf(":");
    if (colon > 0 && !rest.includes("::") && /^[A-Za-z]/.test(rest)) {
      dev = rest.slice(0, colon);
      rest = rest.slice(colon + 1);
    }
    const [ip, mask] = rest.split("/");
    entries.push([`${dir}/ip`, file(ip!)]);
    if (mask) entries.push([mask.includes(".") ? `${dir}/mask` : `${dir}/prefix`, file(mask)]);
    else if (v("IPROOTMASK")) entries.push([`${dir}/mask`, file(v("IPROOTMASK")!)]);
    if (dev) entries.push([`${dir}/dev`, file(dev)]);
    else entries.push([`${dir}/nodev`, file("")]);
    if (v("IPROOTBCAST")) entries.push([`${dir}/bcast`, file(v("IPROOTBCAST")!)]);
  });

  for (const k of vars.keys()) {
    if (!["S_CONTEXT", "S_HOSTNAME", "S_DOMAINNAME", "S_NICE", "S_FLAGS", "S_CAPS", "ONBOOT", "ULIMIT", "IPROOT", "IPROOTDEV", "IPROOTMASK", "IPROOTBCAST"].includes(k)) {
      warnings.push(`${path}: ${k} has no equivalent and was not converted.`);
    }
  }
  return { vars, entries, warnings };
}

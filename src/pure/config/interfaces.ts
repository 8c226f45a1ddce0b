// util-vserver's interfaces/ directory (reference §2.3) as data: which addresses a guest has and how
// each reaches the host's network. Files at the top of interfaces/ are defaults for every NN/
// entry, as in util-vserver. `mode` and `gateway` are this project's additions (docs/networking.md):
// util-vserver put addresses on the host's own device, which has no equivalent once a guest has
// its own network namespace, so the way an address gets out has to be chosen.

import { ConfigError } from "../../errors";
import { childrenOf, fileContent, type ConfigTree } from "./tree";
import { scalar } from "./values";
import { interfaceFile } from "./settings";
import type { ConfigWarning } from "./known-keys";

export const NET_MODES = ["routed", "bridge", "macvlan", "shared", "none"] as const;
export type NetMode = (typeof NET_MODES)[number];
export type AddressMode = Exclude<NetMode, "none">;

export interface GuestAddress {
  /** The interfaces/NN directory, for messages. */
  dir: string;
  family: 4 | 6;
  ip: string;
  prefix: number;
  mode: AddressMode;
  /** Host device: the uplink for routed (proxy ARP/NDP on it), the bridge, or macvlan's parent. */
  dev?: string;
  /** Only bind the guest to the address: no neighbour proxy on any host device. */
  nodev: boolean;
  bcast?: string;
  scope?: string;
  /** Address label inside the guest (util-vserver's `dev:name` alias). */
  label?: string;
  gateway?: string;
}

export interface GuestNetConfig {
  /**
   * host: the host's stack (no interfaces/); none: own namespace, loopback only; own: addresses
   * in a namespace of its own; shared: the host's stack, bound to its addresses (util-vserver's
   * ipv4root).
   */
  kind: "host" | "none" | "own" | "shared";
  addresses: GuestAddress[];
  warnings: ConfigWarning[];
}

// Which files of an entry are read, and why the others are not: the one table (settings.ts).
const unsupportedReason = (f: string): string | undefined => {
  const row = interfaceFile(f);
  return row?.status === "unsupported" ? row.text : undefined;
};
const SCOPES = new Set(["host", "link", "global", "site"]);
const DEV_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,14}$/;

function fail(file: string, msg: string): never {
  throw new ConfigError(`${file}: ${msg}`, { file });
}

/** A dotted IPv4 mask to its prefix length, or undefined when the bits are not contiguous. */
export function maskToPrefix(mask: string): number | undefined {
  if (!isIPv4(mask)) return undefined;
  const n = mask.split(".").reduce((a, o) => a * 256 + Number(o), 0);
  const bits = n.toString(2).padStart(32, "0");
  return /^1*0*$/.test(bits) ? bits.indexOf("0") === -1 ? 32 : bits.indexOf("0") : undefined;
}

// By hand: loading node:net for these two checks costs ~14 ms of every command's start-up.
const OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const V4_RE = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);

export function isIPv4(s: string): boolean {
  return V4_RE.test(s);
}

export function isIPv6(s: string): boolean {
  const halves = s.split("::");
  if (halves.length > 2) return false;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const parts = halves.flatMap(groups);
  let count = parts.length;
  const last = parts[parts.length - 1];
  if (last !== undefined && last.includes(".")) {
    if (!isIPv4(last)) return false;
    parts.pop();
    count += 1;
  }
  if (!parts.every((p) => /^[0-9a-fA-F]{1,4}$/.test(p))) return false;
  return halves.length === 2 ? count <= 7 : count === 8;
}

export function ipFamily(ip: string): 4 | 6 | undefined {
  return isIPv4(ip) ? 4 : isIPv6(ip) && !ip.includes("%") ? 6 : undefined;
}

export function parseInterfaces(tree: ConfigTree, cfgDir: string): GuestNetConfig {
  const warnings: ConfigWarning[] = [];
  const path = (rel: string) => `${cfgDir}/${rel}`;
  if (!tree.has("interfaces")) return { kind: "host", addresses: [], warnings };

  const top = (f: string) => scalar(fileContent(tree, `interfaces/${f}`));
  const topMode = top("mode");
  if (topMode !== undefined && !(NET_MODES as readonly string[]).includes(topMode)) {
    fail(path("interfaces/mode"), `'${topMode}' is not a network mode (one of ${NET_MODES.join(", ")}).`);
  }
  for (const f of childrenOf(tree, "interfaces")) {
    const reason = unsupportedReason(f);
    if (reason && tree.get(`interfaces/${f}`)?.kind === "file") warnings.push({ file: path(`interfaces/${f}`), message: `not supported: ${reason}` });
  }

  const addresses: GuestAddress[] = [];
  for (const nn of childrenOf(tree, "interfaces")) {
    const dir = `interfaces/${nn}`;
    if (tree.get(dir)?.kind !== "dir") continue;
    if (tree.has(`${dir}/disabled`)) continue;
    for (const f of childrenOf(tree, dir)) {
      if (interfaceFile(f)?.status === "read") continue;
      const reason = unsupportedReason(f);
      warnings.push({ file: path(`${dir}/${f}`), message: reason ? `not supported: ${reason}` : "not a setting this version knows; it is ignored" });
    }
    // A value of this entry, else the default at the top of interfaces/, with the file it came from.
    const val = (f: string): { v: string; file: string } | undefined => {
      const own = scalar(fileContent(tree, `${dir}/${f}`));
      if (own !== undefined) return { v: own, file: path(`${dir}/${f}`) };
      const d = top(f);
      return d !== undefined ? { v: d, file: path(`interfaces/${f}`) } : undefined;
    };

    const ipFile = path(`${dir}/ip`);
    const ip = scalar(fileContent(tree, `${dir}/ip`));
    if (ip === undefined) fail(ipFile, "an interface needs an address (the file is missing or empty).");
    const family = ipFamily(ip);
    if (!family) fail(ipFile, `'${ip}' is not an IPv4 or IPv6 address.`);
    if (ip === "0.0.0.0" || ip === "::" || /^(127\.|::1$)/.test(ip)) fail(ipFile, `'${ip}' cannot be a guest's address.`);

    const max = family === 4 ? 32 : 128;
    const modeV = val("mode");
    const mode = (modeV?.v ?? topMode ?? "routed") as NetMode;
    if (!(NET_MODES as readonly string[]).includes(mode)) fail(modeV!.file, `'${mode}' is not a network mode (one of ${NET_MODES.join(", ")}).`);
    if (mode === "none") continue;

    let prefix: number | undefined;
    const pfx = val("prefix");
    const mask = val("mask");
    if (pfx) {
      if (!/^\d{1,3}$/.test(pfx.v) || Number(pfx.v) > max) fail(pfx.file, `'${pfx.v}' is not a prefix length for IPv${family} (0-${max}).`);
      prefix = Number(pfx.v);
    } else if (mask) {
      if (family === 6) fail(mask.file, "a dotted mask applies to IPv4 only; give IPv6 a prefix length.");
      prefix = maskToPrefix(mask.v);
      if (prefix === undefined) fail(mask.file, `'${mask.v}' is not a netmask (like 255.255.255.0).`);
    }
    // Routed guests see every destination through the host, so a host-sized prefix loses nothing;
    // on a bridge or macvlan the guest must know its LAN is on-link. A shared address is an
    // alias on a host device, whose own address already gives the route.
    prefix ??= mode === "routed" || mode === "shared" ? max : family === 4 ? 24 : 64;

    const nodev = tree.has(`${dir}/nodev`) || tree.has(`${dir}/only_ip`);
    const devV = nodev ? undefined : val("dev");
    if (devV && !DEV_RE.test(devV.v)) fail(devV.file, `'${devV.v}' is not a network device name.`);
    if ((mode === "bridge" || mode === "macvlan") && !devV) {
      fail(path(`${dir}/dev`), `mode ${mode} needs a device (the ${mode === "bridge" ? "bridge" : "parent device"}) in this file or in interfaces/dev.`);
    }

    const bcastV = val("bcast");
    if (bcastV) {
      if (family === 6) fail(bcastV.file, "IPv6 has no broadcast address.");
      if (!isIPv4(bcastV.v)) fail(bcastV.file, `'${bcastV.v}' is not an IPv4 broadcast address.`);
    }
    const scopeV = val("scope");
    if (scopeV && !SCOPES.has(scopeV.v) && !/^\d{1,3}$/.test(scopeV.v)) fail(scopeV.file, `'${scopeV.v}' is not an address scope (host, link, site, global).`);
    const nameV = scalar(fileContent(tree, `${dir}/name`));
    if (nameV !== undefined && !/^[A-Za-z0-9_-]{1,10}$/.test(nameV)) fail(path(`${dir}/name`), `'${nameV}' is not a usable label (letters, digits, _ and -, at most 10).`);
    // The kernel keeps an address label in IFNAMSIZ (15 characters): DEV:NAME must fit.
    if (mode === "shared" && nameV !== undefined && devV && devV.v.length + 1 + nameV.length > 15) {
      fail(path(`${dir}/name`), `the label '${devV.v}:${nameV}' is longer than the 15 characters an address label may have.`);
    }
    const gwV = val("gateway");
    if (gwV && ipFamily(gwV.v) !== family) fail(gwV.file, `'${gwV.v}' is not an IPv${family} gateway address.`);

    addresses.push({
      dir: path(dir), family, ip, prefix, mode, dev: devV?.v, nodev: nodev || !devV,
      bcast: bcastV?.v, scope: scopeV?.v, label: nameV, gateway: gwV?.v,
    });
  }
  // As in util-vserver, a guest without any enabled address is not restricted: it shares the host's
  // stack, unless mode none asks for a namespace of its own.
  if (topMode === "none") return { kind: "none", addresses: [], warnings };
  if (!addresses.length) return { kind: "host", addresses, warnings };
  const seen = new Set<string>();
  for (const a of addresses) {
    if (seen.has(a.ip)) fail(`${a.dir}/ip`, `${a.ip} is given twice.`);
    seen.add(a.ip);
  }
  // A guest either stays on the host's stack or gets a namespace: the modes cannot be mixed.
  const shared = addresses.filter((a) => a.mode === "shared");
  if (shared.length && shared.length < addresses.length) {
    const other = addresses.find((a) => a.mode !== "shared")!;
    fail(`${other.dir}/mode`, `mode ${other.mode} cannot be mixed with mode shared (${shared[0]!.dir}): a shared guest stays on the host's network stack.`);
  }
  return { kind: shared.length ? "shared" : "own", addresses, warnings };
}

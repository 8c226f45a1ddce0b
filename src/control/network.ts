// Guest networking, as seen by the lifecycle. Without interfaces/ a guest shares the host's stack
// (util-vserver's behaviour) or, with spaces/net, gets a loopback-only namespace from the runtime.
// With addresses it gets a namespace prepared here before the runtime starts it: links, addresses
// and routes inside, host routes, neighbour proxies and device settings outside
// (docs/networking.md). Everything made is written down first, so teardown needs only the name.

import { ConfigError, ToolError } from "../errors";
import { acquireLock } from "../drivers/lock";
import { ensureBridge, deleteBridge } from "../drivers/net/bridge";
import { hostAddresses, ipBatch, ipTry } from "../drivers/net/ip";
import { bridgePorts, isBridge, linkExists, linksWithPrefix } from "../drivers/net/links";
import { createMacvlan } from "../drivers/net/macvlan";
import { createSocketCgroup, socketCgroupDir } from "../drivers/net/socket-cgroup";
import { socketProgramFacts } from "../drivers/bpf/kernel-btf";
import { abstractUnixScopeAvailable, landlockAbi } from "../drivers/landlock";
import { hostStackPrograms, lbackAddress, sharedPrograms } from "../pure/bpf/host-stack-programs";
import { parseBindAddress } from "../pure/bpf/addresses";
import { aliasAddLines, aliasDelLine, hostAliases } from "../pure/net/shared";
import { createNetns, exposeNetnsIn, removeNetns, unexposeNetnsIn } from "../drivers/net/netns";
import { viewIsLive } from "../drivers/runtime/cgroup-view";
import { viewLock } from "./runtime-view";
import { addProxy, deleteProxy } from "../drivers/net/proxy";
import { hasDevSysctl, readDevSysctl, writeDevSysctl } from "../drivers/net/sysctl";
import {
  allNetStates, bridgeCreatedByUs, markBridgeCreated, netnsFile, readNetState, readUplinkOriginals,
  removeNetState, removeUplinkOriginals, unmarkBridge, writeNetState, writeUplinkOriginals, type NetState,
} from "../drivers/net/state";
import { createVeth, deleteLink, setUp } from "../drivers/net/veth";
import type { GuestConfig } from "../pure/config/guest-config";
import { parseInterfaces, type GuestNetConfig } from "../pure/config/interfaces";
import { guestBatch, linkPrefix, planNetwork, ROUTED_GW6, type NetPlan } from "../pure/net/plan";
import type { Env } from "./env";
import { configTreeOf } from "./guests";

export interface GuestNetwork {
  /** A network namespace path for the spec, when one was prepared before start. */
  netnsPath?: string;
  /** The cgroup2 directory with the socket programs of a guest on the host's stack. */
  socketCgroup?: string;
  /** Its abstract unix sockets are left to a Landlock scope instead of the cgroup programs. */
  scopedUnix?: boolean;
}

export interface NetworkOptions {
  /**
   * security/abstract-sockets `scoped` (its file, named when the kernel cannot do it): a guest
   * on the host's stack gets a Landlock scope for abstract unix sockets instead of the cgroup
   * programs that refuse them all. start has checked that every guest process can be put in it.
   */
  scopeUnixFile?: string;
}

function netLock(env: Env) {
  return acquireLock(env.paths.lockDir, ".net", "guest networking", 60);
}

export function guestNetConfig(env: Env, g: GuestConfig): GuestNetConfig {
  const net = parseInterfaces(configTreeOf(env, g), g.cfgDir);
  for (const w of net.warnings) env.warn(`${w.file}: ${w.message}`);
  return net;
}

/** An address belongs to one running guest, whatever the modes. */
function checkClashes(env: Env, g: GuestConfig, net: GuestNetConfig): void {
  const others = allNetStates(env.paths.runDir).filter((s) => s.name !== g.name);
  for (const a of net.addresses) {
    const clash = others.find((s) => s.addresses.includes(a.ip));
    if (clash) throw new ConfigError(`${a.dir}/ip: ${a.ip} is already used by the running guest '${clash.name}'.`, { guest: g.name, file: `${a.dir}/ip` });
    if (a.mode !== "bridge" && a.dev && !linkExists(a.dev)) {
      throw new ConfigError(`${a.dir}/dev: the host has no network device '${a.dev}'.`, { guest: g.name, file: `${a.dir}/dev` });
    }
  }
}

/** Refuse what cannot work before anything is made, naming the file. */
function checkPlan(env: Env, g: GuestConfig, net: GuestNetConfig, plan: NetPlan): void {
  checkClashes(env, g, net);
  for (const a of net.addresses) {
    if (a.mode === "bridge" && linkExists(a.dev!) && !isBridge(a.dev!)) {
      throw new ConfigError(`${a.dir}/dev: the host device '${a.dev}' is not a bridge.`, { guest: g.name, file: `${a.dir}/dev` });
    }
  }
  const needs6 = plan.links.some((l) => l.kind === "routed" && l.addresses.some((a) => a.family === 6));
  if (needs6 && !hasDevSysctl(6, "default", "force_forwarding")) {
    throw new ToolError("routed IPv6 needs per-device IPv6 forwarding (net.ipv6.conf.*.force_forwarding, Linux 6.17 or later); use bridge or macvlan mode on this kernel.", { guest: g.name });
  }
}

/** Set a host device's sysctl, recording its original value the first time any guest changes it. */
function setUplinkSysctl(env: Env, dev: string, family: 4 | 6, key: string, value: string): void {
  const orig = readUplinkOriginals(env.paths.runDir, dev);
  const k = `${family}:${key}`;
  if (!(k in orig)) {
    const cur = readDevSysctl(family, dev, key);
    if (cur === undefined) throw new ToolError(`the host device '${dev}' has no net.ipv${family}.conf.${dev}.${key} setting.`);
    orig[k] = cur;
    writeUplinkOriginals(env.paths.runDir, dev, orig);
  }
  writeDevSysctl(family, dev, key, value);
}

/**
 * A guest on the host's stack gets its own loopback and no way to the host's local sockets
 * (pure/bpf/host-stack-programs.ts), from programs on its cgroup made before its first process.
 */
function guardHostStack(env: Env, g: GuestConfig, context: number, cgroupPath: string, o: NetworkOptions): GuestNetwork {
  const dir = requireCgroup2(g, cgroupPath);
  const scoped = scopeUnix(o);
  createSocketCgroup(dir, hostStackPrograms(lbackAddress(context), scoped ? undefined : unixFactsOrWarn(env, g), { lowPorts: lowPortsFor(g) }));
  return { socketCgroup: dir, ...(scoped ? { scopedUnix: true } : {}) };
}

/**
 * Abstract unix sockets: by default the cgroup programs refuse every abstract name (they see the
 * address only, not who bound it). With `scoped`, a Landlock scope (Linux 6.12) lets the guest's
 * processes reach the abstract sockets of their own domain and keeps the host's out of reach.
 */
function scopeUnix(o: NetworkOptions): boolean {
  if (!o.scopeUnixFile) return false;
  if (!abstractUnixScopeAvailable()) {
    throw new ConfigError(`${o.scopeUnixFile}: 'scoped' needs Landlock's abstract-socket scope (Linux 6.12, Landlock ABI 6); this kernel's Landlock ABI is ${landlockAbi()}.`, { file: o.scopeUnixFile });
  }
  return true;
}

/**
 * Guest root in its own user namespace holds CAP_NET_BIND_SERVICE only there, and the host's
 * stack checks it against the host's: the bind programs let the guest's allowed binds take ports
 * below 1024 instead, as long as its config grants it that capability. Nothing else gains it.
 */
function lowPortsFor(g: GuestConfig): boolean {
  return g.userNamespace && g.capabilities.includes("NET_BIND_SERVICE");
}

function socketFacts(env: Env) {
  return socketProgramFacts(`${env.paths.runDir}/.bpf/socket-facts.json`);
}

/** The kernel lacks the unix hooks: say so once per start, and go on without them. */
function unixFactsOrWarn(env: Env, g: GuestConfig) {
  const unix = socketFacts(env).unix;
  if (!unix) env.warn(`this kernel has no cgroup unix-socket hooks (Linux 6.7 or later, with BTF): guest '${g.name}' can connect to the host's abstract unix sockets.`);
  return unix;
}

/**
 * Shared mode: the guest stays on the host's stack; its addresses become aliases on host devices
 * (pure/net/shared.ts) and its programs bind it to them. An address the host already has stays
 * the host's: only what was added here is removed at teardown.
 */
async function setupShared(env: Env, g: GuestConfig, net: GuestNetConfig, context: number, cgroupPath: string, o: NetworkOptions): Promise<GuestNetwork> {
  if (g.netNamespace) {
    throw new ConfigError(`${g.cfgDir}/spaces/net: a guest in shared mode stays on the host's network stack and cannot have a namespace of its own.`, { guest: g.name, file: `${g.cfgDir}/spaces/net` });
  }
  const dir = requireCgroup2(g, cgroupPath);
  const scoped = scopeUnix(o); // refused before any address is added
  const runDir = env.paths.runDir;
  const lock = await netLock(env);
  try {
    checkClashes(env, g, net);
    const canon = (ip: string) => parseBindAddress(ip).text;
    const present = new Set(hostAddresses().map(canon));
    for (const a of net.addresses) {
      if (!a.dev && !present.has(canon(a.ip))) {
        throw new ConfigError(`${a.dir}/ip: ${a.ip} is not an address of this host; give interfaces/${a.dir.split("/").pop()}/dev to have it added.`, { guest: g.name, file: `${a.dir}/ip` });
      }
    }
    const aliases = hostAliases(net.addresses, g.name).filter((a) => !present.has(canon(a.ip)));
    writeNetState(runDir, {
      name: g.name, netns: "", hostLinks: [], proxies: [], bridges: [], uplinks: [],
      addresses: net.addresses.map((a) => a.ip), aliases,
    });
    ipBatch(aliasAddLines(aliases), "adding the guest's addresses to the host's devices");
  } finally {
    lock.release();
  }
  const bound = net.addresses.map((a) => parseBindAddress(a.ip, `${a.dir}/ip`));
  createSocketCgroup(dir, sharedPrograms(bound, lbackAddress(context), scoped ? undefined : unixFactsOrWarn(env, g), { lowPorts: lowPortsFor(g), v6onlyBit: socketFacts(env).v6onlyBit }));
  return { socketCgroup: dir, ...(scoped ? { scopedUnix: true } : {}) };
}

function requireCgroup2(g: GuestConfig, cgroupPath: string): string {
  const dir = socketCgroupDir(cgroupPath);
  if (!dir) throw new ToolError("this host has no cgroup2 file system mounted; a guest on the host's network stack needs it for its socket programs.", { guest: g.name });
  return dir;
}

export async function setupGuestNetwork(env: Env, g: GuestConfig, context: number, cgroupPath: string, o: NetworkOptions = {}): Promise<GuestNetwork> {
  const net = guestNetConfig(env, g);
  // Leftovers of a start killed half-way (the guest is not running: start checked).
  if (readNetState(env.paths.runDir, g.name)) await teardownGuestNetwork(env, g.name);
  if (net.kind === "host") return g.netNamespace ? {} : guardHostStack(env, g, context, cgroupPath, o);
  if (net.kind === "shared") return setupShared(env, g, net, context, cgroupPath, o);
  const runDir = env.paths.runDir;
  const plan = planNetwork(net.addresses, linkPrefix(runDir, g.name));
  const netns = netnsFile(runDir, g.name);
  const lock = await netLock(env);
  try {
    checkPlan(env, g, net, plan);
    const state: NetState = {
      name: g.name, netns,
      hostLinks: plan.links.flatMap((l) => (l.hostName ? [l.hostName] : [])),
      proxies: plan.proxies, bridges: plan.bridges,
      uplinks: plan.uplinks.flatMap((u) => [...(u.v4 ? [`${u.dev}:4`] : []), ...(u.v6 ? [`${u.dev}:6`] : [])]),
      addresses: net.addresses.map((a) => a.ip),
    };
    writeNetState(runDir, state);
    createNetns(netns);

    for (const br of plan.bridges) {
      const file = net.addresses.find((a) => a.mode === "bridge" && a.dev === br)!.dir + "/dev";
      if (ensureBridge(br, file)) markBridgeCreated(runDir, br);
    }
    for (const l of plan.links) {
      if (l.kind === "macvlan") {
        createMacvlan(l.dev!, l.guestName, netns);
        continue;
      }
      createVeth(l.hostName!, l.guestName, netns);
      if (l.kind === "bridge") {
        setUp(l.hostName!, l.dev);
        continue;
      }
      // The routed veth: the host answers every ARP from the guest and is its IPv6 gateway; the
      // guest may not reconfigure the host through router advertisements or spoof sources.
      const h = l.hostName!;
      writeDevSysctl(4, h, "proxy_arp", "1");
      writeDevSysctl(4, h, "forwarding", "1");
      writeDevSysctl(4, h, "rp_filter", "1");
      writeDevSysctl(6, h, "accept_ra", "0");
      if (l.addresses.some((a) => a.family === 6)) writeDevSysctl(6, h, "force_forwarding", "1");
      setUp(h);
    }
    ipBatch(guestBatch(plan), "configuring the guest's addresses and routes", netns);

    const routed = plan.links.find((l) => l.kind === "routed");
    if (routed) {
      const host: string[] = [];
      if (routed.addresses.some((a) => a.family === 6)) host.push(`address add ${ROUTED_GW6}/64 dev ${routed.hostName} nodad`);
      for (const a of routed.addresses) host.push(`route replace ${a.ip}/${a.family === 4 ? 32 : 128} dev ${routed.hostName}`);
      ipBatch(host, "adding the host routes to the guest");
    }
    for (const u of plan.uplinks) {
      if (u.v4) setUplinkSysctl(env, u.dev, 4, "forwarding", "1");
      if (u.v6) {
        // The kernel answers proxied neighbour solicitations only on a device in router mode
        // (conf.DEV.forwarding), which also stops it taking router advertisements unless
        // accept_ra is 2; keep the host's own address configuration as it was.
        if (readDevSysctl(6, u.dev, "accept_ra") === "1") setUplinkSysctl(env, u.dev, 6, "accept_ra", "2");
        setUplinkSysctl(env, u.dev, 6, "forwarding", "1");
        setUplinkSysctl(env, u.dev, 6, "proxy_ndp", "1");
        setUplinkSysctl(env, u.dev, 6, "force_forwarding", "1");
      }
    }
    for (const p of plan.proxies) addProxy(p);
  } finally {
    lock.release();
  }
  // The runtime may run in a mount namespace of its own, copied before this file was mounted.
  const view = env.runtime().view;
  if (view) {
    const vl = await viewLock(env);
    try {
      if (viewIsLive(view)) exposeNetnsIn(netns, view.file);
    } finally {
      vl.release();
    }
  }
  return { netnsPath: netns };
}

/** Everything is in place before the runtime starts the guest: nothing is moved in afterwards. */
export async function attachGuestNetwork(_env: Env, _g: GuestConfig, _pid: number, _net: GuestNetwork): Promise<void> {}

export async function teardownGuestNetwork(env: Env, name: string): Promise<void> {
  const runDir = env.paths.runDir;
  if (!readNetState(runDir, name)) return;
  const view = env.runtime().view;
  const state = readNetState(runDir, name);
  if (view && state && viewIsLive(view)) unexposeNetnsIn(state.netns, view.file);
  const lock = await netLock(env);
  try {
    teardownLocked(runDir, name);
  } finally {
    lock.release();
  }
}

function teardownLocked(runDir: string, name: string): void {
  const state = readNetState(runDir, name);
  if (!state) return;
  for (const p of state.proxies) deleteProxy(p);
  for (const l of new Set([...state.hostLinks, ...linksWithPrefix(linkPrefix(runDir, name))])) deleteLink(l);
  // macvlans live only in the namespace and go with it.
  if (state.netns) removeNetns(state.netns);
  removeNetState(runDir, name);

  const others = allNetStates(runDir);
  for (const a of state.aliases ?? []) {
    if (!others.some((s) => s.addresses.includes(a.ip))) ipTry(aliasDelLine(a).split(" "));
  }
  // Each family's settings on a device go back when no guest needs that family there any more.
  for (const use of state.uplinks) {
    if (others.some((s) => s.uplinks.includes(use))) continue;
    const [dev, fam] = use.split(":") as [string, string];
    const orig = readUplinkOriginals(runDir, dev);
    for (const [k, v] of Object.entries(orig)) {
      const [f, key] = k.split(":");
      if (f !== fam) continue;
      try { writeDevSysctl(Number(f) as 4 | 6, dev, key!, v); } catch {}
      delete orig[k];
    }
    if (Object.keys(orig).length) writeUplinkOriginals(runDir, dev, orig);
    else removeUplinkOriginals(runDir, dev);
  }
  for (const br of state.bridges) {
    if (others.some((s) => s.bridges.includes(br)) || !bridgeCreatedByUs(runDir, br)) continue;
    if (bridgePorts(br).length === 0) deleteBridge(br);
    unmarkBridge(runDir, br);
  }
}

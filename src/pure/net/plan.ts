// From a guest's addresses to the links, routes and neighbour proxies that carry them. Pure, so
// that the names every later teardown relies on are decided in one place and can be tested.

import { fnv1a32 } from "../paths";
import type { GuestAddress } from "../config/interfaces";

export interface LinkPlan {
  kind: "routed" | "bridge" | "macvlan";
  /** Host-side name (veth end); macvlan links live only in the guest's namespace. */
  hostName?: string;
  guestName: string;
  /** Bridge or macvlan parent. */
  dev?: string;
  addresses: GuestAddress[];
}

export interface ProxyEntry {
  family: 4 | 6;
  ip: string;
  dev: string;
}

export interface NetPlan {
  links: LinkPlan[];
  /** Neighbour proxies on host devices, so the LAN behind them finds routed addresses. */
  proxies: ProxyEntry[];
  /** Host devices whose forwarding / proxy settings routed addresses need, per family. */
  uplinks: Array<{ dev: string; v4: boolean; v6: boolean }>;
  bridges: string[];
}

/** Prefix of every host link of a guest: "vs" + 8 hex digits of the installation and name (15-char limit). */
export function linkPrefix(runDir: string, name: string): string {
  return "vs" + fnv1a32(`${runDir}\0${name}`);
}

export function planNetwork(addresses: GuestAddress[], prefix: string): NetPlan {
  const links: LinkPlan[] = [];
  const find = (kind: LinkPlan["kind"], dev?: string) => links.find((l) => l.kind === kind && (kind === "routed" || l.dev === dev));
  let b = 0;
  for (const a of addresses) {
    // Shared addresses stay on the host's stack (pure/net/shared.ts): no link to plan.
    if (a.mode === "shared") continue;
    let l = find(a.mode, a.dev);
    if (!l) {
      const guestName = `eth${links.length}`;
      if (a.mode === "routed") l = { kind: "routed", hostName: `${prefix}r`, guestName, addresses: [] };
      else if (a.mode === "bridge") l = { kind: "bridge", hostName: `${prefix}b${b++}`, guestName, dev: a.dev, addresses: [] };
      else l = { kind: "macvlan", guestName, dev: a.dev, addresses: [], hostName: undefined };
      links.push(l);
    }
    l.addresses.push(a);
  }
  const proxies: ProxyEntry[] = [];
  const uplinks: NetPlan["uplinks"] = [];
  for (const a of links.find((l) => l.kind === "routed")?.addresses ?? []) {
    if (a.nodev || !a.dev) continue;
    proxies.push({ family: a.family, ip: a.ip, dev: a.dev });
    let u = uplinks.find((x) => x.dev === a.dev);
    if (!u) uplinks.push((u = { dev: a.dev, v4: false, v6: false }));
    if (a.family === 4) u.v4 = true;
    else u.v6 = true;
  }
  const bridges = [...new Set(links.filter((l) => l.kind === "bridge").map((l) => l.dev!))];
  return { links, proxies, uplinks, bridges };
}

/** `ip addr add` arguments for one address inside the guest. */
export function addressArgs(a: GuestAddress, link: LinkPlan): string[] {
  const args = ["address", "add", `${a.ip}/${a.prefix}`, "dev", link.guestName];
  if (a.family === 4 && a.bcast) args.push("broadcast", a.bcast);
  else if (a.family === 4 && a.prefix < 31) args.push("broadcast", "+");
  if (a.scope) args.push("scope", a.scope);
  if (a.family === 4 && a.label) args.push("label", `${link.guestName}:${a.label}`);
  // Routed guests reach everything through the host; a prefix route would make them look for LAN
  // neighbours on a link where there are none.
  if (link.kind === "routed") args.push("noprefixroute");
  if (a.family === 6) args.push("nodad");
  return args;
}

/** Lines for `ip -batch` inside the guest's namespace: loopback, addresses and routes. */
export function guestBatch(plan: NetPlan): string[] {
  const out = ["link set lo up"];
  for (const l of plan.links) {
    out.push(`link set ${l.guestName} up`);
    for (const a of l.addresses) out.push(addressArgs(a, l).join(" "));
  }
  const routed = plan.links.find((l) => l.kind === "routed");
  const has4 = routed?.addresses.some((a) => a.family === 4);
  const has6 = routed?.addresses.some((a) => a.family === 6);
  let gw4 = false;
  let gw6 = false;
  for (const l of plan.links) {
    for (const a of l.addresses) {
      if (!a.gateway) continue;
      if (a.family === 4 && !gw4) { out.push(`route add default via ${a.gateway} dev ${l.guestName}`); gw4 = true; }
      if (a.family === 6 && !gw6) { out.push(`route add default via ${a.gateway} dev ${l.guestName}`); gw6 = true; }
    }
  }
  // The host answers ARP for everything on the routed veth (proxy_arp) and is fe80::1 on it.
  if (routed && has4 && !gw4) out.push(`route add default dev ${routed.guestName}`);
  if (routed && has6 && !gw6) out.push(`route add default via ${ROUTED_GW6} dev ${routed.guestName}`);
  return out;
}

export const ROUTED_GW6 = "fe80::1";

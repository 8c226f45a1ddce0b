// Neighbour proxies: the host answers ARP / NDP on the uplink for a routed guest's address, so the
// LAN sends that address's traffic to the host, which routes it to the guest's veth.

import type { ProxyEntry } from "../../pure/net/plan";
import { ip, ipTry } from "./ip";

export function addProxy(p: ProxyEntry): void {
  ip([`-${p.family}`, "neigh", "replace", "proxy", p.ip, "dev", p.dev], `adding a neighbour proxy for ${p.ip} on ${p.dev}`);
}

export function deleteProxy(p: ProxyEntry): void {
  ipTry([`-${p.family}`, "neigh", "del", "proxy", p.ip, "dev", p.dev]);
}

// A veth pair with one end on the host and the other created directly inside the guest's
// namespace, so no guest link is ever visible on the host, even for a moment.

import { ip, ipTry } from "./ip";

export function createVeth(hostName: string, guestName: string, netns: string): void {
  ip(["link", "add", hostName, "type", "veth", "peer", "name", guestName, "netns", netns], `creating the veth ${hostName}`);
}

export function deleteLink(name: string): boolean {
  return ipTry(["link", "del", name]);
}

export function setUp(name: string, master?: string): void {
  ip(master ? ["link", "set", name, "master", master, "up"] : ["link", "set", name, "up"], `bringing up ${name}`);
}

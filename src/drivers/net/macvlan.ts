// macvlan links on a host device, created straight into the guest's namespace. In bridge mode
// guests on the same parent reach each other; the host itself cannot reach them through the
// parent (a macvlan property, docs/networking.md).

import { ip } from "./ip";

export function createMacvlan(parent: string, guestName: string, netns: string): void {
  ip(["link", "add", "link", parent, "name", guestName, "netns", netns, "type", "macvlan", "mode", "bridge"], `creating a macvlan on ${parent}`);
}

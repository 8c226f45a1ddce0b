// Ports below 1024 in a guest's network namespace. A namespace of ours belongs to the host's user
// namespace, so a guest in a user namespace of its own holds no CAP_NET_BIND_SERVICE over it,
// whatever its capability set says. For such guests the namespace lets every user bind low ports
// (net.ipv4.ip_unprivileged_port_start=0, as Docker sets for its containers): only that guest's
// namespace changes, never the host's.

import { runOk } from "../process";

export function openLowPorts(netnsPath: string): void {
  runOk(["nsenter", `--net=${netnsPath}`, "sysctl", "-q", "-w", "net.ipv4.ip_unprivileged_port_start=0"], {}, "opening ports below 1024 in the guest's network namespace");
}

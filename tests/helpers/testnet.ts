// A fake LAN for networking tests: a client network namespace joined to the host by veth links that
// play the host's eth0. Every name starts with "vst" and a per-run tag; addresses come from the
// benchmarking range 198.18.0.0/15 and 2001:db8::/32 (this host's own uplink uses 192.0.2.0/24). Nothing is
// routed anywhere else, and remove() deletes all of it even when tests failed.

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";

export interface Sh {
  code: number;
  out: string;
}

export function sh(argv: string[], timeout = 20): Sh {
  const r = Bun.spawnSync(["timeout", "-k", "2", String(timeout), ...argv], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? 137, out: r.stdout.toString() + r.stderr.toString() };
}

export function must(argv: string[]): string {
  const r = sh(argv);
  if (r.code !== 0) throw new Error(`${argv.join(" ")} failed: ${r.out}`);
  return r.out;
}

export class TestNet {
  readonly tag = randomBytes(2).toString("hex");
  readonly ns = `vstc${this.tag}`;
  readonly links: string[] = [];

  /** A host-side link named vst<kind><tag> whose peer is in the client namespace with the given addresses. */
  uplink(kind: string, hostAddrs: string[], clientAddrs: string[], master?: string): string {
    if (!this.links.length && !sh(["ip", "netns", "list"]).out.includes(this.ns)) {
      must(["ip", "netns", "add", this.ns]);
      must(["ip", "-n", this.ns, "link", "set", "lo", "up"]);
    }
    // Never shadow a network the host really uses.
    const used = sh(["ip", "-o", "addr"]).out.split("\n").filter((l) => !/^\d+: vst/.test(l)).join("\n");
    for (const a of [...hostAddrs, ...clientAddrs]) {
      const net = a.includes(":") ? a.split("::")[0]! + ":" : a.split(".").slice(0, 3).join(".") + ".";
      if (used.includes(" " + net)) throw new Error(`the host already has an address in ${net}*; choose another test range`);
    }
    const host = `vst${kind}${this.tag}`;
    const peer = `vst${kind}c${this.tag}`;
    this.links.push(host);
    must(["ip", "link", "add", host, "type", "veth", "peer", "name", peer, "netns", this.ns]);
    for (const a of hostAddrs) must(["ip", "addr", "add", a, "dev", host, ...(a.includes(":") ? ["nodad"] : [])]);
    if (master) must(["ip", "link", "set", host, "master", master]);
    must(["ip", "link", "set", host, "up"]);
    for (const a of clientAddrs) must(["ip", "-n", this.ns, "addr", "add", a, "dev", peer, ...(a.includes(":") ? ["nodad"] : [])]);
    must(["ip", "-n", this.ns, "link", "set", peer, "up"]);
    return host;
  }

  bridge(kind: string, addrs: string[] = []): string {
    const br = `vst${kind}${this.tag}`;
    this.links.push(br);
    must(["ip", "link", "add", br, "type", "bridge"]);
    for (const a of addrs) must(["ip", "addr", "add", a, "dev", br, ...(a.includes(":") ? ["nodad"] : [])]);
    must(["ip", "link", "set", br, "up"]);
    return br;
  }

  /** Run in the client namespace. */
  client(argv: string[], timeout = 15): Sh {
    return sh(["ip", "netns", "exec", this.ns, ...argv], timeout);
  }

  /** HTTP GET with busybox wget; the body, or undefined when nothing answered. */
  get(url: string, where: "client" | "host" = "client"): string | undefined {
    // No -T: Debian 12's static busybox wget crashes with it; timeout(1) bounds the wait instead.
    const argv = ["busybox", "wget", "-q", "-O", "-", url];
    const r = where === "client" ? this.client(argv, 6) : sh(argv, 6);
    return r.code === 0 ? r.out : undefined;
  }

  remove(): void {
    for (const l of this.links) sh(["ip", "link", "del", l]);
    sh(["ip", "netns", "del", this.ns]);
  }

  /** Host state that must be back to how it was: links, routes, proxies mentioning our ranges. */
  static hostNetSnapshot(): string {
    const parts = [
      sh(["ip", "-o", "link"]).out.split("\n").map((l) => l.split(":")[1]?.trim().split("@")[0]).join(" "),
      sh(["ip", "route"]).out,
      sh(["ip", "-6", "route"]).out.split("\n").filter((l) => !l.startsWith("fe80")).join("\n"),
      sh(["ip", "neigh", "show", "proxy"]).out,
      sh(["ip", "-6", "neigh", "show", "proxy"]).out,
      sh(["ip", "netns", "list"]).out,
    ];
    for (const k of ["ipv4/conf/all/proxy_arp", "ipv4/conf/all/forwarding", "ipv4/ip_forward", "ipv6/conf/all/forwarding", "ipv6/conf/all/proxy_ndp"]) {
      parts.push(`${k}=${readFileSync(`/proc/sys/net/${k}`, "utf8").trim()}`);
    }
    return parts.join("\n");
  }
}

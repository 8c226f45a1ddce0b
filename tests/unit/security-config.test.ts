// Security-related parts of the config and spec: flags that cannot be honoured are reported, and
// the spec keeps the host's submounts out of a guest's /sys.

import { expect, test } from "bun:test";
import { parseGuestConfig } from "../../src/pure/config/guest-config";
import type { ConfigTree } from "../../src/pure/config/tree";
import { buildOciSpec } from "../../src/pure/spec/oci-spec";

function tree(files: Record<string, string>): ConfigTree {
  return new Map(Object.entries(files).map(([k, v]) => [k, { kind: "file", content: v, executable: false }])) as ConfigTree;
}
const parse = (files: Record<string, string>) =>
  parseGuestConfig({ name: "g", cfgDir: "/etc/vservers/g", guest: tree(files), defaults: new Map() as ConfigTree, vdirBase: "/vservers" });

test("hideinfo is reported as unsupported, naming the cflags file", () => {
  const w = parse({ cflags: "hideinfo\n" }).warnings;
  expect(w).toContainEqual({ file: "/etc/vservers/g/cflags", message: "flag 'hideinfo' is not supported on this kernel and has no effect" });
});

test("hide_netif is reported only when the guest shares the host's network", () => {
  expect(parse({ cflags: "hide_netif\n" }).warnings.map((x) => x.message).join()).toContain("shares the host's network namespace");
  expect(parse({ cflags: "hide_netif\n", "spaces/net": "" }).warnings).toEqual([]);
});

test("supported flags raise no warning", () => {
  expect(parse({ cflags: "lock\nprivate\n" }).warnings).toEqual([]);
});

test("a host-network guest gets the host's /sys bound non-recursively and read-only", () => {
  const spec = buildOciSpec(parse({}), { cgroupsPath: "/p/1", guestInitPath: "", hostMemoryBytes: 1 << 30, arch: "x86_64", args: ["/bin/sh"], ids: { range: { base: 1 << 20, count: 65536 }, root: "/r" } }) as { mounts: Array<{ destination: string; options: string[] }> };
  const sys = spec.mounts.find((m) => m.destination === "/sys")!;
  expect(sys.options).toContain("ro");
  expect(sys.options).toContain("bind");
  expect(sys.options).not.toContain("rbind");
});

// On systemd hosts `/` is a shared mount, and the kernel refuses to bind namespace files there.
// A state root on a shared mount must still work: the runtime's view and the guests' network
// namespace files get private mounts of their own, which go again when unused.

import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { TestHost, busyboxGuest } from "../helpers/host";

const h = new TestHost("shared");
let mounted = false;
afterAll(() => {
  h.vserver("--silent", "sh1", "stop");
  if (mounted) Bun.spawnSync(["umount", "-l", h.root]);
  h.cleanup();
});

function mountsUnder(root: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "").filter((p) => p.startsWith(root + "/"));
}

test("a guest with its own network namespace starts and stops on a shared mount", () => {
  expect(Bun.spawnSync(["mount", "--bind", h.root, h.root]).exitCode).toBe(0);
  mounted = true;
  expect(Bun.spawnSync(["mount", "--make-shared", h.root]).exitCode).toBe(0);
  busyboxGuest(h, "sh1", { "interfaces/mode": "none\n" });
  const r = h.vserver("sh1", "start");
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(h.inGuest("sh1", "ip", "-o", "link").stdout.trim().split("\n").length).toBe(1);
  h.ok("sh1", "stop");
  expect(mountsUnder(h.root)).toEqual([]);
});

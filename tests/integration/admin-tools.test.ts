// Tools an admin reaches for: vserver-info - SYSINFO, and acting on the host's own processes only
// (the host sees every guest's processes, so killall on the host would reach the guests too).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { TestHost, busyboxGuest } from "../helpers/host";

let h: TestHost;
// A process name no other test or engineer uses: a script's process is named after its file.
const NAME = `vstslp${Math.random().toString(36).slice(2, 8)}`;
let hostProc: ReturnType<typeof Bun.spawn> | undefined;

beforeAll(() => {
  h = new TestHost("admin");
  busyboxGuest(h, "g");
  h.ok("g", "start");
});

afterAll(() => {
  try { hostProc?.kill("SIGKILL"); } catch {}
  h.cleanup();
});

function pidsNamed(name: string): number[] {
  const out: number[] = [];
  for (const d of require("node:fs").readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, "utf8").trimEnd() === name) out.push(Number(d));
    } catch {}
  }
  return out;
}

describe("vserver-info - SYSINFO", () => {
  test("versions, paths, features and guests of this host; only with '-'", () => {
    const r = h.run("vserver-info", ["-", "SYSINFO"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Versions:\n  vserver: \d+\.\d+\.\d+\n  Kernel: \S+/);
    expect(r.stdout).toMatch(/  Runtime: (crun|runc) \S+/);
    expect(r.stdout).toContain(`  config: ${h.confDir}\n`);
    expect(r.stdout).toContain("  USERNS: yes");
    expect(r.stdout).toContain("  configured: 1\n  running: 1\n");
    const g = h.run("vserver-info", ["g", "SYSINFO"]);
    expect(g.code).toBe(2);
    expect(g.stderr).toContain("vserver-info - SYSINFO");
  });
});

describe("the host's own processes", () => {
  test("vkill --xid 0 --name stops the host's process of that name and leaves the guest's", async () => {
    const script = `#!/bin/sh\nwhile :; do sleep 1; done\n`;
    const hostScript = `${h.root}/${NAME}`;
    writeFileSync(hostScript, script);
    chmodSync(hostScript, 0o755);
    writeFileSync(`${h.vdir("g")}/bin/${NAME}`, script);
    chmodSync(`${h.vdir("g")}/bin/${NAME}`, 0o755);
    hostProc = Bun.spawn([hostScript], { stdout: "ignore", stderr: "ignore" });
    expect(h.inGuest("g", "sh", "-c", `setsid /bin/${NAME} </dev/null >/dev/null 2>&1 &`).code).toBe(0);
    await Bun.sleep(300);
    // The hazard: from the host, both are in view under the same name.
    expect(pidsNamed(NAME).length).toBe(2);

    const host = h.run("vkill", ["--xid", "0", "--name", NAME]);
    expect(host.code).toBe(0);
    expect(await hostProc.exited).toBe(143);
    expect(pidsNamed(NAME).length).toBe(1);
    expect(h.inGuest("g", "sh", "-c", `cat /proc/[0-9]*/comm | grep -qx ${NAME}`).code).toBe(0);

    const none = h.run("vkill", ["--xid", "0", "--name", NAME]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`no process named ${NAME} in context 0`);

    expect(h.run("vkill", ["--xid", "g", "--name", NAME]).code).toBe(0);
    await Bun.sleep(200);
    expect(pidsNamed(NAME)).toEqual([]);
    expect(existsSync(hostScript)).toBe(true);
  });

  test("--name without --xid is refused: it would reach every guest", () => {
    const r = h.run("vkill", ["--name", "httpd"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--name needs --xid");
  });
});

// The guest's own stop command (its rc6.d K scripts, or apps/init/cmd.stop) runs on every path a
// stop can take: the host's only guest, one of many, with hooks, with cgroup/ files, with a
// network of ours, and through `restart`. A stop that skips it loses whatever the guest's
// services would have flushed at shutdown.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { TestHost, busyboxGuest, compileStatic } from "../helpers/host";

const h = new TestHost("stopcmd");
afterAll(() => h.cleanup());

/** A K script in the guest that leaves a marker in its own root, where the host can read it. */
function plantStopScript(name: string): string {
  const script = `${h.vdir(name)}/etc/rc6.d/K10marker`;
  writeFileSync(script, "#!/bin/sh\necho \"stopped $1\" >> /root/stop-marker\n", { mode: 0o755 });
  const marker = `${h.vdir(name)}/root/stop-marker`;
  rmSync(marker, { force: true });
  return marker;
}

function stopAndCheck(name: string, verb: "stop" | "restart" = "stop"): void {
  const marker = plantStopScript(name);
  h.ok(name, "start");
  h.ok(name, verb);
  expect(existsSync(marker)).toBe(true);
  expect(readFileSync(marker, "utf8")).toBe("stopped stop\n");
  if (verb === "restart") h.ok(name, "stop");
}

describe("the stop command runs", () => {
  beforeAll(() => {
    busyboxGuest(h, "only");
    busyboxGuest(h, "hooked", { "scripts/pre-stop": "#!/bin/sh\ntrue\n" });
    busyboxGuest(h, "limits", { "cgroup/pids.max": "77\n" });
    busyboxGuest(h, "netted", { "interfaces/mode": "none\n" });
    busyboxGuest(h, "cmdstop", { "apps/init/cmd.stop": "/bin/sh\n-c\necho cmd.stop >> /root/cmd-marker\n" });
    busyboxGuest(h, "other");
  });

  test("for the host's only guest", () => stopAndCheck("only"));

  test("for one guest of many", () => {
    h.ok("other", "start");
    try {
      stopAndCheck("only");
    } finally {
      h.ok("other", "stop");
    }
  });

  test("for the last of two guests to stop", () => {
    h.ok("other", "start");
    const marker = plantStopScript("only");
    h.ok("only", "start");
    h.ok("other", "stop");
    h.ok("only", "stop");
    expect(readFileSync(marker, "utf8")).toBe("stopped stop\n");
  });

  test("with hooks", () => stopAndCheck("hooked"));
  test("with cgroup/ files", () => stopAndCheck("limits"));
  test("with a network namespace of ours", () => stopAndCheck("netted"));
  test("on restart", () => stopAndCheck("only", "restart"));

  test("apps/init/cmd.stop instead of the rc scripts", () => {
    h.ok("cmdstop", "start");
    h.ok("cmdstop", "stop");
    expect(readFileSync(`${h.vdir("cmdstop")}/root/cmd-marker`, "utf8")).toBe("cmd.stop\n");
  });
});

describe("only the host can make the guest init run the stop command", () => {
  test("kill(1, SIGPWR) from guest root and a sigqueue that forges the host's sender PID are ignored", () => {
    const src = `${h.root}/forge.c`;
    writeFileSync(src, `#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "kill") == 0) return kill(1, SIGPWR) == 0 ? 0 : 1;
  siginfo_t si; memset(&si, 0, sizeof si);
  si.si_signo = SIGPWR; si.si_code = SI_QUEUE; si.si_pid = 0; si.si_uid = 0;
  return syscall(SYS_rt_sigqueueinfo, 1, SIGPWR, &si) == 0 ? 0 : 1;
}
`);
    compileStatic(src, `${h.vdir("only")}/forge`);
    const marker = plantStopScript("only");
    h.ok("only", "start");
    try {
      // Both signals are delivered (the init blocks them all), so only the init's own check stops
      // them; one at a time, since a second SIGPWR still pending would merge with the first.
      for (const how of ["kill", "queue"]) {
        expect(h.inGuest("only", "/forge", how).code).toBe(0);
        Bun.sleepSync(300);
        expect(h.inGuest("only", "cat", "/proc/1/comm").stdout.trim()).toBe(".vserver-init");
        expect(existsSync(marker)).toBe(false);
      }
    } finally {
      h.ok("only", "stop");
      rmSync(`${h.vdir("only")}/forge`, { force: true });
    }
    // The host's own request still works.
    expect(readFileSync(marker, "utf8")).toBe("stopped stop\n");
  });
});

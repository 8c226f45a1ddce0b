// exec and enter obey the guest's ulimits/ (the runtimes apply config.json's rlimits to PID 1
// only), with a pipe, a host file and a terminal on stdio alike.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { TestHost, busyboxGuest, BIN } from "../helpers/host";

const h = new TestHost("execlim");
afterAll(() => h.cleanup());

describe("ulimits/ in exec and enter", () => {
  beforeAll(() => {
    busyboxGuest(h, "lim", { "ulimits/nofile": "256\n", "ulimits/nproc.soft": "300\n", "ulimits/nproc.hard": "400\n" });
    h.ok("lim", "start");
  });

  test("exec with pipes", () => {
    expect(h.inGuest("lim", "sh", "-c", "ulimit -n; ulimit -Su; ulimit -Hu").stdout).toBe("256\n300\n400\n");
  });

  test("exec with a host file on stdout (relayed)", () => {
    const out = `${h.root}/ulimit.out`;
    const r = Bun.spawnSync(["sh", "-c", `${BIN}/vserver lim exec sh -c 'ulimit -n' > ${out}`], { env: h.env });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(out, "utf8")).toBe("256\n");
  });

  test("enter, on a terminal", async () => {
    const p = Bun.spawn(["timeout", "60", "script", "-qfec", `${BIN}/vserver lim enter`, "/dev/null"], { env: { ...h.env, SHELL: "/bin/bash" }, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    const stdin = p.stdin as unknown as { write(s: string): void; flush(): void; end(): void };
    stdin.write("echo NOFILE=$(ulimit -n); exit\n");
    stdin.flush();
    const out = (await new Response(p.stdout as unknown as ReadableStream).text()).replace(/\r/g, "");
    await p.exited;
    stdin.end();
    expect(out).toContain("NOFILE=256\n");
  });

  test("suexec", () => {
    expect(h.vserver("lim", "suexec", "1", "sh", "-c", "ulimit -n").stdout).toBe("256\n");
  });
});

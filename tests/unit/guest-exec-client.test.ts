// The host's end of the guest init's exec service, against a stand-in for the init: guest root
// with CAP_SYS_PTRACE can take the init's socket and answer in its place, so what comes back for
// a terminal must be a pty master, or the host runs nothing of it and falls back.

import { afterAll, expect, test } from "bun:test";
import { closeSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { execThroughInit } from "../../src/drivers/guest-exec-client";
import { isPtyMaster } from "../../src/drivers/terminal";

const dir = mkdtempSync(`${tmpdir()}/vst-exec-client-`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hostFile = `${dir}/host-file`;
writeFileSync(hostFile, "the host's\n");

const request = { uid: 0, gid: 0, cwd: "/", nice: 0, noNewPrivs: true, rlimits: [], argv: ["sh"], env: [], terminal: { rows: 24, cols: 80 } };

/** Start the stand-in; its report (descriptors with the request, then what the host wrote) when done. */
async function forgedInit(path: string, reply: string, attach: string[]): Promise<() => Promise<string[]>> {
  const p = Bun.spawn([process.execPath, `${import.meta.dir}/../helpers/forged-exec-init.ts`, path, reply, attach.join(",")], { stdout: "pipe", stderr: "inherit" });
  const reader = (p.stdout as ReadableStream<Uint8Array>).getReader();
  let out = new TextDecoder().decode((await reader.read()).value);
  if (!out.startsWith("listening\n")) throw new Error(`the stand-in did not start: ${out}`);
  return async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    await p.exited;
    return out.slice("listening\n".length).split("\n");
  };
}

test("a pid reply with anything but one pty master: nothing runs, and whatever answered is told to kill", async () => {
  for (const [what, attach] of [["/dev/null", ["/dev/null"]], ["a host file", [hostFile]], ["nothing", []], ["two masters", ["/dev/ptmx", "/dev/ptmx"]]] as const) {
    const path = `${dir}/forged.sock`;
    const done = await forgedInit(path, "pid 5\\n", [...attach]);
    let started = false;
    const outcome = await execThroughInit(path, request, [], () => (started = true));
    const [fdsWithRequest, ...afterwards] = await done();
    expect(`${what}: ${JSON.stringify(outcome)}`).toBe(`${what}: ${JSON.stringify({ ran: false, why: "the guest's init did not hand back a terminal" })}`);
    expect(started).toBe(false);
    // A terminal request hands in no descriptor of the host's.
    expect(fdsWithRequest).toBe("0");
    expect(afterwards.join("\n")).toBe("signal 9\n");
  }
});

test("a pid reply with a pty master: the command runs, and the master is the caller's", async () => {
  const path = `${dir}/genuine.sock`;
  const done = await forgedInit(path, "pid 5\\nexit 3\\n", ["/dev/ptmx"]);
  let master: number | undefined;
  const outcome = await execThroughInit(path, request, [], (m) => (master = m));
  await done();
  expect(outcome).toEqual({ ran: true, status: 3 });
  expect(master).toBeDefined();
  expect(isPtyMaster(master!)).toBe(true);
  closeSync(master!);
});

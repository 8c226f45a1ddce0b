// Events: every operation (by a command or the API) and every state change a guest makes by
// itself (reboot and halt from inside, a crash of its PID 1, an OOM kill) reaches the journal
// with time, guest, context, caller and outcome, the live stream (server-sent events, filtered
// by guest and operation) and `vserver-events`.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { TestHost, busyboxGuest, BIN } from "../helpers/host";
import { ApiClient } from "../helpers/api";

const h = new TestHost("apiev");
const api = new ApiClient(h);

beforeAll(async () => {
  await api.start();
  busyboxGuest(h, "evg");
  // 16 MiB: a 64 MiB buffer in the guest meets the OOM killer.
  busyboxGuest(h, "evo", { "rlimits/rss": "4096\n" });
});
afterAll(async () => {
  await api.stop();
  h.cleanup();
});

interface Ev {
  event: string;
  data: any;
}

/** A live event stream; `next(pred)` waits for the first event matching pred. */
async function subscribe(query: string) {
  const ac = new AbortController();
  const r = await api.fetch(`/v1/events?follow=1&${query}`, { signal: ac.signal });
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toBe("text/event-stream");
  const reader = r.body!.getReader();
  const seen: Ev[] = [];
  let buf = "";
  const pump = (async () => {
    try {
      for (;;) {
        const c = await reader.read();
        if (c.done) return;
        buf += new TextDecoder().decode(c.value);
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (ev && data) seen.push({ event: ev, data: JSON.parse(data) });
        }
      }
    } catch {}
  })();
  return {
    seen,
    async next(pred: (e: Ev) => boolean, ms = 15000): Promise<Ev> {
      const end = Date.now() + ms;
      for (;;) {
        const e = seen.find(pred);
        if (e) return e;
        if (Date.now() > end) throw new Error(`no such event within ${ms} ms; seen: ${seen.map((s) => `${s.event}:${s.data.guest}`).join(", ")}`);
        await Bun.sleep(50);
      }
    },
    close() {
      ac.abort();
      return pump;
    },
  };
}

function pid1(name: string): number {
  return JSON.parse(readFileSync(`${h.runDir}/${name}`, "utf8")).pid;
}

describe("the live stream", () => {
  test("operations by the commands arrive with caller, context and outcome; the guest filter holds", async () => {
    const s = await subscribe("guest=evg");
    h.ok("evg", "start");
    h.ok("evo", "start");
    h.ok("evg", "exec", "true");
    expect(h.vserver("evg", "build", "-m", "busybox").code).not.toBe(0); // it exists: a failed operation
    h.run("vlimit", ["--xid", "evg", "--nproc", "300"]);
    const start = await s.next((e) => e.event === "start" && e.data.ok);
    expect(start.data.guest).toBe("evg");
    expect(start.data.context).toBeGreaterThan(1);
    expect(start.data.caller.uid).toBe(0);
    expect(start.data.caller.pid).toBeGreaterThan(1);
    expect(typeof start.data.ms).toBe("number");
    expect(Date.parse(start.data.time)).toBeGreaterThan(Date.now() - 60000);
    await s.next((e) => e.event === "exec" && e.data.argv0 === "true");
    const failed = await s.next((e) => e.event === "build" && !e.data.ok);
    expect(failed.data.error).toMatch(/evg/);
    await s.next((e) => e.event === "limit");
    await Bun.sleep(300);
    expect(s.seen.every((e) => e.data.guest === "evg")).toBe(true);
    await s.close();
  });

  test("the op filter, and API operations marked as the API's", async () => {
    const s = await subscribe("op=stop,start");
    expect((await api.call("POST", "/v1/guests/evg/stop")).status).toBe(200);
    expect((await api.call("POST", "/v1/guests/evg/start")).status).toBe(200);
    const stop = await s.next((e) => e.event === "stop");
    expect(stop.data.caller.via).toBe("api");
    await s.next((e) => e.event === "start" && e.data.guest === "evg");
    expect(s.seen.every((e) => ["stop", "start"].includes(e.event))).toBe(true);
    await s.close();
  });

  test("a reboot from inside the guest", async () => {
    const s = await subscribe("guest=evg&op=reboot,exit");
    // Give the service's watcher a look at the running guest first (its baseline).
    await Bun.sleep(2500);
    h.inGuest("evg", "reboot");
    const e = await s.next((e) => e.event === "reboot");
    expect(e.data.how).toBe("inside");
    expect(e.data.caller.via).toBe("guest");
    expect(h.vserver("evg", "running").code).toBe(0);
    await s.close();
  });

  test("a halt from inside, noticed without any command", async () => {
    const s = await subscribe("guest=evg&op=exit");
    h.inGuest("evg", "halt");
    const e = await s.next((e) => e.event === "exit");
    expect(e.data.how).toBe("halt");
    await s.close();
  });

  test("a crash: the guest's PID 1 killed", async () => {
    h.ok("evg", "start");
    const s = await subscribe("guest=evg&op=exit");
    process.kill(pid1("evg"), "SIGKILL");
    const e = await s.next((e) => e.event === "exit");
    expect(e.data.how).toBe("exit");
    // Cleaned up by the service: the next start needs no recovery.
    expect(h.vserver("evg", "start").stderr).not.toMatch(/killed command/);
    await s.close();
  });

  test("an OOM kill in the guest", async () => {
    const s = await subscribe("guest=evo&op=oom");
    await Bun.sleep(2500); // the watcher's baseline
    const r = h.inGuest("evo", "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1");
    expect(r.code).not.toBe(0);
    const e = await s.next((e) => e.event === "oom");
    expect(e.data.kills).toBeGreaterThanOrEqual(1);
    expect(e.data.context).toBeGreaterThan(1);
    await s.close();
  });

  test("the process limit hit", async () => {
    const s = await subscribe("guest=evo&op=limit-hit");
    expect((await api.call("PUT", "/v1/guests/evo/limits", { limits: { nproc: 8 } })).status).toBe(200);
    await Bun.sleep(2500); // the watcher's baseline
    h.inGuest("evo", "sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 2 & done; wait");
    const e = await s.next((e) => e.event === "limit-hit");
    expect(e.data.resource).toBe("nproc");
    expect(e.data.refused).toBeGreaterThanOrEqual(1);
    await s.close();
  });
});

describe("the journal", () => {
  test("GET /v1/events filters the kept events", async () => {
    const r = await api.call("GET", "/v1/events?guest=evg&op=start&limit=2");
    expect(r.status).toBe(200);
    expect(r.json.length).toBe(2);
    expect(r.json.every((e: any) => e.op === "start" && e.guest === "evg")).toBe(true);
  });

  test("vserver-events shows and follows them", async () => {
    if (h.vserver("evg", "running").code !== 0) h.ok("evg", "start");
    const r = h.run("vserver-events", ["--guest", "evg", "-n", "50"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ start +evg +ctx \d+ ok \(uid 0 pid \d+\)/);
    expect(r.stdout).toMatch(/ exit +evg .*how=halt/);
    const j = h.run("vserver-events", ["--json", "--op", "reboot", "-n", "5"]);
    expect(j.stdout.trim().split("\n").map((l) => JSON.parse(l).op)).toEqual(["reboot"]);
    expect(h.run("vserver-events", ["-n", "x"]).stderr).toMatch(/-n: 'x' is not a number/);

    const f = Bun.spawn([`${BIN}/vserver-events`, "-f", "-n", "0", "--guest", "evg"], { env: h.env, stdout: "pipe", stderr: "pipe" });
    try {
      await Bun.sleep(500);
      h.ok("evg", "exec", "true");
      const reader = f.stdout.getReader();
      const got = await Promise.race([reader.read(), Bun.sleep(10000).then(() => undefined)]);
      expect(new TextDecoder().decode(got?.value)).toMatch(/ exec +evg .*argv0=true/);
    } finally {
      f.kill("SIGKILL");
      await f.exited;
    }
  });
});

// Scoped callers: a token line that lists guests sees and acts on those guests only, in every
// route (guests, status, start, exec, console, log, limits, events and their live stream,
// /metrics, vserver-stat, asynchronous operations); another's guest is answered as one that does
// not exist; host-wide operations are refused. A token without a list still reaches every guest,
// and a bad list in the tokens file names the file and the line.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { TestHost, busyboxGuest } from "../helpers/host";
import { ApiClient } from "../helpers/api";
import { freePort, makeTestPki } from "../helpers/test-pki";

const h = new TestHost("apiscope");
const api = new ApiClient(h);
const pki = `${h.root}/pki`;
const conf = `${h.confDir}/.api`;
const OPS = "ops-token-sees-every-guest-0123";
const ALICE = "alice-token-sees-sa-guests-0123";
const MINE = "sa-1";
const OTHER = "sb-1";
let port = 0;
const followers: Array<{ kill(): void }> = [];

/** A request to the TCP listener with a token; the HTTP status and the body. */
function as(token: string, method: string, path: string, body?: unknown): { status: number; body: string; json: any } {
  const args = ["curl", "-s", "--max-time", "60", "--cacert", `${pki}/ca.pem`, "-H", `Authorization: Bearer ${token}`, "-X", method, "-o", "-", "-w", "\n%{http_code}"];
  if (body !== undefined) args.push("-d", JSON.stringify(body));
  const r = Bun.spawnSync([...args, `https://127.0.0.1:${port}${path}`], { stdout: "pipe", stderr: "pipe" });
  const out = r.stdout.toString();
  const i = out.lastIndexOf("\n");
  const text = out.slice(0, i);
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: Number(out.slice(i + 1)) || 0, body: text, json };
}

function configure(tokens: string): void {
  rmSync(conf, { recursive: true, force: true });
  mkdirSync(conf, { recursive: true, mode: 0o700 });
  const files = { listen: `127.0.0.1:${port}\n`, "cert.pem": readFileSync(`${pki}/server.pem`), "key.pem": readFileSync(`${pki}/server.key`), tokens };
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(`${conf}/${name}`, content);
    chmodSync(`${conf}/${name}`, 0o600);
  }
}

/** The service's TCP listener starts after its Unix socket: wait until it answers, or for `ms`. */
async function listening(ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  while (as(OPS, "GET", "/v1").status !== 200 && Date.now() < end) await Bun.sleep(100);
}

/** Our own service, reading the settings as they are now. */
async function restart(): Promise<void> {
  await api.stop();
  await api.start();
  await listening(1000);
}

/** Follow the event stream as `token`: what came so far, and an end to it. */
function follow(token: string): { text: () => string; stop: () => void } {
  const p = Bun.spawn(["curl", "-sN", "--cacert", `${pki}/ca.pem`, "-H", `Authorization: Bearer ${token}`, `https://127.0.0.1:${port}/v1/events?follow=1`], { stdout: "pipe", stderr: "ignore" });
  followers.push(p);
  let text = "";
  void (async () => {
    for await (const c of p.stdout) text += new TextDecoder().decode(c);
  })();
  return { text: () => text, stop: () => p.kill() };
}

async function until(cond: () => boolean, ms = 30000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(100);
  }
}

beforeAll(async () => {
  port = freePort();
  makeTestPki(pki);
  busyboxGuest(h, MINE);
  busyboxGuest(h, OTHER);
  configure(`ops ${OPS}\nalice ${ALICE} sa-*,sx\n`);
  await restart();
  await listening();
}, 120000);

afterAll(async () => {
  for (const f of followers) f.kill();
  h.vserver(MINE, "stop");
  h.vserver(OTHER, "stop");
  await api.stop();
  h.cleanup();
});

const names = (r: { json: any }) => (r.json.result as Array<{ name: string }>).map((g) => g.name).sort();

describe("a token limited to some guests", () => {
  test("lists only its guests; a token without a list lists every guest", () => {
    expect(names(as(ALICE, "GET", "/v1/guests"))).toEqual([MINE]);
    expect(names(as(OPS, "GET", "/v1/guests"))).toEqual([MINE, OTHER]);
  });

  test("gets another's guest answered as one that does not exist, and changes nothing", () => {
    const other = as(ALICE, "GET", `/v1/guests/${OTHER}`);
    const none = as(ALICE, "GET", "/v1/guests/sb-nonexistent");
    expect(other.status).toBe(404);
    expect(other.json.error).toBe(`there is no guest '${OTHER}' that this caller may see.`);
    // The same answer whether the guest exists or not: no name leaks.
    expect(none.status).toBe(404);
    expect(none.json.error).toBe("there is no guest 'sb-nonexistent' that this caller may see.");
    for (const [method, path, body] of [
      ["POST", "start"], ["POST", "stop"], ["POST", "restart"], ["DELETE", "?force=1"], ["GET", "log"], ["GET", "limits"],
      ["PUT", "limits", { limits: { nproc: 10 } }], ["GET", "attributes"], ["PATCH", "attributes", { flags: ["private"] }],
      ["GET", "du"], ["POST", "hashify"], ["POST", "deunify"], ["POST", "packages", { action: "install", packages: ["x"] }],
      ["POST", "exec", { argv: ["true"] }], ["GET", "console"],
    ] as Array<[string, string, unknown?]>) {
      const path_ = path.startsWith("?") ? `/v1/guests/${OTHER}${path}` : `/v1/guests/${OTHER}/${path}`;
      const r = as(ALICE, method, path_, body);
      expect([method, path, r.status]).toEqual([method, path, 404]);
      expect(r.json.error).toContain("that this caller may see");
    }
    expect(h.vserver(OTHER, "running").code).toBe(1);
    expect(existsSync(h.cfg(OTHER))).toBe(true);
  });

  test("acts on its own guest, and the journal names its token", () => {
    const started = as(ALICE, "POST", `/v1/guests/${MINE}/start`);
    expect(started.status).toBe(200);
    expect(h.vserver(MINE, "running").code).toBe(0);
    expect(as(ALICE, "GET", `/v1/guests/${MINE}`).json.result.running).toBe(true);
    const exec = as(ALICE, "POST", `/v1/guests/${MINE}/exec`, { argv: ["sh", "-c", "echo in-$(hostname)"] });
    expect(exec.status).toBe(200);
    expect(exec.body).toContain(`"stdout":"in-${MINE}\\n"`);
    const ev = as(ALICE, "GET", `/v1/events?guest=${MINE}&op=start&limit=1`).json[0];
    expect(ev.caller).toEqual({ uid: 0, via: "api-tcp", who: "token alice" });
  }, 60000);

  test("follows the live event stream of its guests only", async () => {
    const alice = follow(ALICE);
    const ops = follow(OPS);
    await until(() => alice.text().includes("following") && ops.text().includes("following"));
    expect(as(OPS, "POST", `/v1/guests/${OTHER}/start`).status).toBe(200);
    expect(as(ALICE, "POST", `/v1/guests/${MINE}/restart`).status).toBe(200);
    await until(() => ops.text().includes(`"guest":"${MINE}"`) && alice.text().includes(`"guest":"${MINE}"`));
    // The other guest's start came first: by now it would have reached alice's stream too.
    expect(ops.text()).toContain(`"guest":"${OTHER}"`);
    expect(alice.text()).not.toContain(OTHER);
    alice.stop();
    ops.stop();
  }, 90000);

  test("lists the journal's events of its guests only", () => {
    const listed = as(ALICE, "GET", "/v1/events?limit=1000").json as Array<{ guest?: string }>;
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((e) => e.guest === MINE)).toBe(true);
    expect((as(OPS, "GET", "/v1/events?limit=1000").json as Array<{ guest?: string }>).some((e) => e.guest === OTHER)).toBe(true);
  });

  test("sees its guests only in vserver-stat", () => {
    // Both run now; each token's vserver-stat shows what it may see.
    expect(names(as(ALICE, "GET", "/v1/stat"))).toEqual([MINE]);
    expect(names(as(OPS, "GET", "/v1/stat")).filter(Boolean)).toEqual([MINE, OTHER]);
  });

  test("scrapes /metrics of its guests only, without the host's operation counts", () => {
    const mine = as(ALICE, "GET", "/metrics").body;
    expect(mine).toContain(`vserver_guest_up{guest="${MINE}"} 1`);
    expect(mine).toMatch(new RegExp(`vserver_guest_memory_bytes\\{guest="${MINE}",context="\\d+"\\} \\d+`));
    expect(mine).toMatch(new RegExp(`vserver_guest_starts_total\\{guest="${MINE}"\\} \\d+`));
    expect(mine).not.toContain(OTHER);
    // Every guest's operations together are the host's, not a guest's.
    expect(mine).not.toMatch(/^vserver_operations_total\{/m);
    expect(mine).not.toMatch(/^vserver_operation_duration_seconds_bucket\{/m);
    const all = as(OPS, "GET", "/metrics").body;
    expect(all).toContain(`vserver_guest_up{guest="${OTHER}"} 1`);
    expect(all).toMatch(/^vserver_operations_total\{/m);
  });

  test("may not run operations over every guest, nor name another's in them", () => {
    const gc = as(ALICE, "POST", "/v1/unify/gc");
    expect(gc.status).toBe(403);
    expect(gc.json.error).toBe("POST /v1/unify/gc acts on every guest; a caller limited to some guests may not use it.");
    const all = as(ALICE, "POST", "/v1/start-vservers", { action: "stop", select: "all" });
    expect(all.status).toBe(403);
    expect(all.json.error).toMatch(/^body field 'select' would reach guests outside this caller's list/);
    expect(as(ALICE, "POST", "/v1/start-vservers", { action: "stop", guests: [MINE, OTHER] }).status).toBe(404);
    expect(as(ALICE, "POST", "/v1/packages", { tool: "apt-get", args: ["update"], select: "running" }).status).toBe(403);
    expect(as(ALICE, "POST", "/v1/packages", { tool: "apt-get", args: ["update"], guests: [OTHER] }).status).toBe(404);
    const build = as(ALICE, "POST", "/v1/guests", { name: "sb-2", method: "busybox" });
    expect(build.status).toBe(403);
    expect(build.json.error).toBe("body field 'name': this caller may build only guests its list names (sa-*, sx), not 'sb-2'.");
    expect(existsSync(h.cfg("sb-2"))).toBe(false);
    // A name of its own, but a copy of another's guest, a host file, a chosen context or address.
    for (const [body, field] of [
      [{ method: "rsync", methodArgs: ["-s", OTHER] }, "method"],
      [{ method: "clone", methodArgs: ["-s", OTHER] }, "method"],
      [{ method: "debootstrap", methodArgs: ["-d", "bookworm", "-m", "file:///"] }, "methodArgs"],
      [{ method: "busybox", context: 40001 }, "context"],
      [{ method: "busybox", interfaces: ["10.9.9.9/24"] }, "interfaces"],
    ] as Array<[object, string]>) {
      const r = as(ALICE, "POST", "/v1/guests", { name: "sa-2", ...body });
      expect([field, r.status]).toEqual([field, 403]);
      expect(r.json.error).toStartWith(`body field '${field}': a caller limited to some guests`);
    }
    expect(existsSync(h.cfg("sa-2"))).toBe(false);
    // None of it stopped anything.
    expect(h.vserver(MINE, "running").code).toBe(0);
    expect(h.vserver(OTHER, "running").code).toBe(0);
  });

  test("sees only the asynchronous operations on its own guests", async () => {
    const theirs = as(OPS, "POST", "/v1/start-vservers", { action: "stop", guests: [OTHER] });
    expect(theirs.status).toBe(202);
    const mine = as(ALICE, "POST", "/v1/start-vservers", { action: "stop", guests: [MINE] });
    expect(mine.status).toBe(202);
    expect(as(OPS, "GET", `${theirs.json.href}?wait=120`).json.status).toBe("succeeded");
    expect(as(ALICE, "GET", `${mine.json.href}?wait=120`).json.result).toEqual([{ name: MINE, result: "stopped" }]);
    expect(h.vserver(MINE, "running").code).toBe(1);
    const seen = (as(ALICE, "GET", "/v1/operations").json as Array<{ id: string }>).map((o) => o.id);
    expect(seen).toContain(mine.json.operation);
    expect(seen).not.toContain(theirs.json.operation);
    const peek = as(ALICE, "GET", theirs.json.href);
    expect(peek.status).toBe(404);
    expect(peek.body).not.toContain(OTHER);
    expect((as(OPS, "GET", "/v1/operations").json as Array<{ id: string }>).map((o) => o.id)).toEqual(expect.arrayContaining([mine.json.operation, theirs.json.operation]));
  }, 150000);

  test("builds and deletes a guest of a name its list allows", () => {
    const built = as(ALICE, "POST", "/v1/guests", { name: "sa-2", method: "busybox" });
    expect(built.status).toBe(202);
    const op = as(ALICE, "GET", `${built.json.href}?wait=120`).json;
    expect([op.status, op.error]).toEqual(["succeeded", undefined]);
    expect(names(as(ALICE, "GET", "/v1/guests"))).toEqual([MINE, "sa-2"]);
    expect(as(ALICE, "DELETE", "/v1/guests/sa-2?force=1").status).toBe(200);
    expect(existsSync(h.cfg("sa-2"))).toBe(false);
  }, 150000);

  test("gets a console on its own guest only, with the token in the first message as a browser sends it", async () => {
    expect(as(ALICE, "POST", `/v1/guests/${MINE}/start`).status).toBe(200);
    expect(as(OPS, "POST", `/v1/guests/${OTHER}/start`).status).toBe(200);
    const open = (guest: string) => {
      const ws = new WebSocket(`wss://127.0.0.1:${port}/v1/guests/${guest}/console`, { tls: { rejectUnauthorized: false } } as any);
      let output = "";
      ws.binaryType = "arraybuffer";
      ws.onmessage = (e) => (output += typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data as ArrayBuffer));
      const closed = new Promise<{ code: number; reason: string }>((r) => (ws.onclose = (e) => r({ code: e.code, reason: e.reason })));
      ws.onopen = () => ws.send(JSON.stringify({ cols: 80, rows: 24, token: ALICE }));
      return { ws, closed, output: () => output };
    };
    const theirs = open(OTHER);
    const c = await Promise.race([theirs.closed, Bun.sleep(10000).then(() => ({ code: 0, reason: "still open after 10 s" }))]);
    theirs.ws.close();
    expect(c.code).toBe(4404);
    expect(c.reason).toBe(`there is no guest '${OTHER}' that this caller may see`);
    expect(theirs.output()).toBe("");

    const mine = open(MINE);
    await Bun.sleep(1000);
    mine.ws.send(JSON.stringify({ input: "echo console-$((6*7))-$(hostname)\n" }));
    await until(() => mine.output().includes(`console-42-${MINE}`));
    mine.ws.send(JSON.stringify({ input: "exit\n" }));
    expect((await mine.closed).code).toBe(1000);
    h.ok(MINE, "stop");
    h.ok(OTHER, "stop");
  }, 90000);
});

describe("the tokens file", () => {
  test("a bad guest list names the file and the line, and leaves the listener off", async () => {
    configure(`ops ${OPS}\nalice ${ALICE} sa-*,bad/name\n`);
    await restart();
    await until(() => api.stderr.includes("The TCP API is off."), 15000);
    expect(api.stderr).toContain(`${conf}/tokens, line 2: 'bad/name' is not a guest name or pattern (letters, digits, '.', '_', '-', and '*' or '?'), in a list separated by commas.`);
    expect(as(OPS, "GET", "/v1").status).toBe(0);
    configure(`ops ${OPS}\nalice ${ALICE} sa-1 sb-1\n`);
    await restart();
    await until(() => api.stderr.includes("The TCP API is off."), 15000);
    expect(api.stderr).toContain(`${conf}/tokens, line 2: not 'NAME TOKEN' or 'NAME TOKEN GUEST,GUEST,...'`);
    expect(as(OPS, "GET", "/v1").status).toBe(0);
    rmSync(conf, { recursive: true, force: true });
  }, 60000);
});

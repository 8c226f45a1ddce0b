// Unification through the API, on a loop-backed XFS the test makes and removes
// (docs/unification.md): hashify as an asynchronous operation, checked on disk (the root emptied,
// the content in the store under its hash, the guest still reading it), a running guest refused,
// vdu, unify -R and gc, each journaled as the commands' are, and bad requests refused in one
// sentence before anything runs.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { TestHost, busyboxGuest } from "../helpers/host";
import { XfsPool } from "../helpers/xfs-pool";
import { ApiClient } from "../helpers/api";

const h = new TestHost("apiunify");
const api = new ApiClient(h);
const STORE = `${h.root}/vservers/.unify/store`;
let pool: XfsPool | undefined;

const CONTENT = "shared through the store\n".repeat(400);
const sha256 = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest("hex");
const objectOf = (s: string) => `${STORE}/${sha256(s).slice(0, 2)}/${sha256(s).slice(2)}`;

beforeAll(async () => {
  pool = new XfsPool(`${h.root}/vservers`);
  await api.start();
  busyboxGuest(h, "au1");
  mkdirSync(`${h.vdir("au1")}/data`);
  writeFileSync(`${h.vdir("au1")}/data/file`, CONTENT, { mode: 0o644 });
});

afterAll(async () => {
  try {
    await api.stop();
    h.removeGuests();
  } finally {
    pool?.remove();
    h.cleanup();
  }
});

function journal(op: string, guest?: string): any[] {
  return readFileSync(`${h.logDir}/events.log`, "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.op === op && (guest === undefined || e.guest === guest));
}

test("hashify: the guest's files go into the store, its root is emptied, and it still reads them", async () => {
  const op = await api.operation("POST", "/v1/guests/au1/hashify");
  expect(op.status).toBe("succeeded");
  expect(op.op).toBe("hashify");
  expect(op.guest).toBe("au1");
  expect(op.result.files).toBeGreaterThan(10);
  expect(op.result.wasUnified).toBe(false);
  expect(op.output.join("\n")).toMatch(/guest 'au1' hashified: \d+ files .* storage: xfs on \/dev\/loop/);
  // On disk: the root is an empty mount point, the file's content is one object named by its hash.
  expect(readdirSync(h.vdir("au1"))).toEqual([]);
  expect(readFileSync(objectOf(CONTENT), "utf8")).toBe(CONTENT);
  expect(existsSync(`${h.root}/vservers/.unify/guests/au1/current`)).toBe(true);
  const e = journal("hashify", "au1").at(-1);
  expect(e.ok).toBe(true);
  expect(e.caller).toEqual({ uid: 0, via: "api" });

  h.ok("au1", "start");
  expect(h.inGuest("au1", "cat", "/data/file").stdout).toBe(CONTENT);
});

test("a running guest is refused: the operation fails with the control plane's sentence, nothing moved", async () => {
  const before = readdirSync(`${h.root}/vservers/.unify/guests/au1`).sort();
  const op = await api.operation("POST", "/v1/guests/au1/hashify");
  expect(op.status).toBe("failed");
  expect(op.kind).toBe("AlreadyRunningError");
  expect(op.error).toBe("guest 'au1' is running; stop it before hashify: files of a running guest are never moved under it.");
  expect(readdirSync(`${h.root}/vservers/.unify/guests/au1`).sort()).toEqual(before);
  h.ok("au1", "stop");
});

test("vdu: what the guest holds of its own and what it shares", async () => {
  const r = await api.call("GET", "/v1/guests/au1/du");
  expect(r.status).toBe(200);
  expect(r.json.result.unified).toBe(true);
  expect(r.json.result.sharedObjects).toBeGreaterThan(0);
  expect(r.json.result.sharedBytes).toBeGreaterThanOrEqual(CONTENT.length);
});

test("unify -R gives the guest a plain tree again, and gc then removes the objects nobody uses", async () => {
  const op = await api.operation("POST", "/v1/guests/au1/deunify");
  expect(op.status).toBe("succeeded");
  expect(readFileSync(`${h.vdir("au1")}/data/file`, "utf8")).toBe(CONTENT);
  expect(existsSync(`${h.root}/vservers/.unify/guests/au1/current`)).toBe(false);
  expect(journal("unify-R", "au1").at(-1).ok).toBe(true);

  const gc = await api.operation("POST", "/v1/unify/gc");
  expect(gc.status).toBe("succeeded");
  expect(gc.result.removed).toBeGreaterThan(0);
  expect(gc.output.join("\n")).toMatch(/store: 0 objects in use, \d+ removed/);
  expect(existsSync(objectOf(CONTENT))).toBe(false);
  expect(journal("gc").at(-1).ok).toBe(true);
});

test("bad requests: one sentence, the right status, and no operation started", async () => {
  const before = (await api.call("GET", "/v1/operations")).json.length;
  const none = await api.call("POST", "/v1/guests/nosuch/hashify");
  expect(none.status).toBe(404);
  expect(none.json.error).toBe("there is no guest 'nosuch'.");
  const badName = await api.call("POST", "/v1/guests/a%20b/deunify");
  expect(badName.status).toBe(400);
  expect(badName.json.error).toBe("path parameter 'name' must be a guest name (letters, digits, '.', '_', '-'; at most 63).");
  const query = await api.call("POST", "/v1/unify/gc?all=1");
  expect(query.status).toBe(400);
  expect(query.json.error).toBe("query parameter 'all' is not known here.");
  const method = await api.call("GET", "/v1/guests/au1/hashify");
  expect(method.status).toBe(405);
  expect(method.json.error).toBe("/v1/guests/au1/hashify takes POST, not GET.");
  expect((await api.call("GET", "/v1/guests/nosuch/du")).status).toBe(404);
  expect((await api.call("GET", "/v1/operations")).json.length).toBe(before);
  // The OpenAPI document has the new routes, from the same definitions.
  const doc = (await api.call("GET", "/v1/openapi.json")).json;
  for (const p of ["/v1/guests/{name}/hashify", "/v1/guests/{name}/deunify", "/v1/unify/gc"]) expect(doc.paths[p].post.responses["202"]).toBeTruthy();
  expect(doc.paths["/v1/guests/{name}/du"].get).toBeTruthy();
});

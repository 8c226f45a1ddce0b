// The REST API on the host service's Unix socket: every endpoint against real guests, checked
// from outside (the commands, the config on disk) and from inside; bad input refused with a 4xx
// naming the field; only root may connect.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { TestHost, busyboxGuest } from "../helpers/host";
import { ApiClient } from "../helpers/api";

const h = new TestHost("api");
const api = new ApiClient(h);

beforeAll(async () => {
  await api.start();
  busyboxGuest(h, "apib");
});
afterAll(async () => {
  await api.stop();
  h.cleanup();
});

/** Poll an asynchronous operation until it ends. */
async function awaitOperation(id: string): Promise<any> {
  const r = await api.call("GET", `/v1/operations/${id}?wait=120`);
  expect(r.status).toBe(200);
  return r.json;
}

async function execLines(name: string, body: unknown): Promise<{ status: number; lines: any[] }> {
  const r = await api.fetch(`/v1/guests/${name}/exec`, { method: "POST", body: JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, lines: text.split("\n").filter(Boolean).map((l) => JSON.parse(l)) };
}

describe("the socket", () => {
  test("is root's only: mode 0600 in a 0700 directory, and another user cannot connect", () => {
    expect(statSync(api.socket).mode & 0o777).toBe(0o600);
    expect(statSync(`${h.root}/run/vservers/.service`).mode & 0o777).toBe(0o700);
    const asRoot = Bun.spawnSync(["curl", "-sf", "--unix-socket", api.socket, "http://x/v1"]);
    expect(asRoot.exitCode).toBe(0);
    const asNobody = Bun.spawnSync(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "curl", "-sf", "--unix-socket", api.socket, "http://x/v1"]);
    expect(asNobody.exitCode).not.toBe(0);
    expect(asNobody.stdout.toString()).toBe("");
  });
});

describe("the OpenAPI document", () => {
  test("describes every route with the schemas that validate it", async () => {
    const { status, json } = await api.call("GET", "/v1/openapi.json");
    expect(status).toBe(200);
    expect(json.openapi).toBe("3.1.0");
    const exec = json.paths["/v1/guests/{name}/exec"].post;
    expect(exec.requestBody.content["application/json"].schema.required).toContain("argv");
    expect(Object.keys(json.paths)).toEqual(expect.arrayContaining(["/v1/guests", "/v1/guests/{name}", "/v1/guests/{name}/limits", "/v1/events", "/metrics", "/v1/operations/{id}"]));
    expect(json.paths["/v1/guests/{name}"].delete.parameters.map((p: any) => p.name)).toEqual(["name", "force"]);
  });
});

describe("bad requests", () => {
  const cases: Array<[string, string, unknown, number, RegExp]> = [
    ["POST", "/v1/guests", { name: "bad name", method: "busybox" }, 400, /body field 'name'/],
    ["POST", "/v1/guests", { method: "busybox" }, 400, /body field 'name' is required/],
    ["POST", "/v1/guests", { name: "x", method: "busybox", colour: "red" }, 400, /unknown field 'colour'/],
    ["POST", "/v1/guests", "{not json", 400, /not valid JSON/],
    ["POST", "/v1/guests", { name: "x", method: "nosuch" }, 202, /./], // refused by the build itself: see the next test
    ["POST", "/v1/guests/apib/exec", { argv: [] }, 400, /body field 'argv' must name a command/],
    ["POST", "/v1/guests/apib/exec", { argv: "ls" }, 400, /body field 'argv'/],
    ["PUT", "/v1/guests/apib/limits", { limits: { nproc: -1 } }, 400, /body field 'limits.nproc' must be a whole number or "inf"/],
    ["PUT", "/v1/guests/apib/limits", { limits: {} }, 400, /body field 'limits' must name at least one resource/],
    ["PATCH", "/v1/guests/apib/attributes", {}, 400, /needs bcaps or flags/],
    ["DELETE", "/v1/guests/apib", undefined, 400, /query parameter 'force' must be "1" or "true"/],
    ["GET", "/v1/guests/a%2Fb", undefined, 400, /path parameter 'name'/],
    ["GET", "/v1/guests?x=1", undefined, 400, /query parameter 'x' is not known/],
    ["GET", "/v1/events?limit=zero", undefined, 400, /query parameter 'limit'/],
    ["GET", "/v1/operations/xyz", undefined, 400, /path parameter 'id'/],
    ["GET", "/v1/nothing", undefined, 404, /there is no \/v1\/nothing/],
    ["POST", "/v1/start-vservers", { action: "start", guests: ["apib"], select: "all" }, 400, /needs either guests or select, not both/],
    ["POST", "/v1/start-vservers", { action: "begin", select: "all" }, 400, /body field 'action'/],
    ["POST", "/v1/start-vservers", { action: "start", select: "all", mark: "web" }, 400, /gives mark only with select marked/],
    ["PUT", "/v1/guests/apib/start", undefined, 405, /takes POST, not PUT/],
    ["GET", "/v1/guests/nosuch", undefined, 404, /no guest named 'nosuch'/],
    ["POST", "/v1/guests/apib/exec", { argv: ["true"] }, 409, /not running/],
  ];
  for (const [method, path, body, status, msg] of cases) {
    test(`${method} ${path} ${body === undefined ? "" : JSON.stringify(body)} -> ${status}`, async () => {
      const r = await api.call(method, path, body);
      expect(r.status).toBe(status);
      if (status >= 400) {
        expect(r.json.error).toMatch(msg);
        // One sentence: one full stop, at the end.
        expect(r.json.error.trim().endsWith(".")).toBe(true);
      }
    });
  }

  test("a build the control plane refuses fails its operation with one sentence, and leaves nothing", async () => {
    const r = await api.call("POST", "/v1/guests", { name: "apibad", method: "nosuch" });
    expect(r.status).toBe(202);
    const op = await awaitOperation(r.json.operation);
    expect(op.status).toBe("failed");
    expect(op.error).toMatch(/unknown build method 'nosuch'/);
    expect(existsSync(h.cfg("apibad"))).toBe(false);
    expect(h.vserver("apibad", "status").code).not.toBe(0);
  });
});

describe("a guest's life through the API", () => {
  let buildId = "";

  test("build is an asynchronous operation that can be polled", async () => {
    const r = await api.call("POST", "/v1/guests", { name: "apig", method: "busybox", hostname: "apig.example" });
    expect(r.status).toBe(202);
    expect(r.json.href).toBe(`/v1/operations/${r.json.operation}`);
    buildId = r.json.operation;
    const op = await awaitOperation(buildId);
    expect(op.status).toBe("succeeded");
    expect(op.result.name).toBe("apig");
    // The commands see the same guest.
    expect(h.vserver("apig", "status").code).toBe(3);
    expect(readFileSync(`${h.cfg("apig")}/uts/nodename`, "utf8").trim()).toBe("apig.example");
    const list = await api.call("GET", "/v1/operations");
    expect(list.json.map((o: any) => o.id)).toContain(buildId);
  });

  test("building a guest that exists fails the operation and keeps the guest", async () => {
    const r = await api.call("POST", "/v1/guests", { name: "apig", method: "busybox" });
    const op = await awaitOperation(r.json.operation);
    expect(op.status).toBe("failed");
    expect(op.error).toMatch(/apig/);
    expect(existsSync(h.cfg("apig"))).toBe(true);
  });

  test("start: the guest runs, as the commands and the guest itself see it", async () => {
    const r = await api.call("POST", "/v1/guests/apig/start");
    expect(r.status).toBe(200);
    expect(r.json.result.running).toBe(true);
    expect(h.vserver("apig", "running").code).toBe(0);
    expect(h.inGuest("apig", "hostname").stdout.trim()).toBe("apig.example");
    const again = await api.call("POST", "/v1/guests/apig/start");
    expect(again.status).toBe(409);
    expect(again.json.error).toMatch(/already running/);
  });

  test("list and one guest carry state and usage", async () => {
    const all = await api.call("GET", "/v1/guests");
    expect(all.status).toBe(200);
    const g = all.json.result.find((x: any) => x.name === "apig");
    const b = all.json.result.find((x: any) => x.name === "apib");
    expect(g.running).toBe(true);
    expect(g.usage.memoryBytes).toBeGreaterThan(0);
    expect(g.usage.pids).toBeGreaterThanOrEqual(1);
    expect(b.running).toBe(false);
    const one = await api.call("GET", "/v1/guests/apig");
    expect(one.json.result.context).toBe(g.context);
    expect(one.json.result.usage.context).toBe(g.context);
    const stat = await api.call("GET", "/v1/stat");
    expect(stat.json.result.map((s: any) => s.context)).toContain(g.context);
  });

  test("exec streams the command's output and gives its exit status and standard input", async () => {
    const r = await execLines("apig", { argv: ["sh", "-c", "echo out; echo err >&2; cat; exit 7"], stdin: "from the caller\n" });
    expect(r.status).toBe(200);
    const out = r.lines.filter((l) => "stdout" in l).map((l) => l.stdout).join("");
    const err = r.lines.filter((l) => "stderr" in l).map((l) => l.stderr).join("");
    expect(out).toBe("out\nfrom the caller\n");
    expect(err).toBe("err\n");
    expect(r.lines[r.lines.length - 1]).toEqual({ exit: 7 });
    // Inside the guest: its own PID namespace.
    const ps = await execLines("apig", { argv: ["cat", "/proc/1/comm"] });
    expect(ps.lines[0].stdout.trim()).not.toBe("systemd");
  });

  test("exec output arrives while the command still runs", async () => {
    const began = Date.now();
    const r = await api.fetch("/v1/guests/apig/exec", { method: "POST", body: JSON.stringify({ argv: ["sh", "-c", "echo first; sleep 3; echo second"] }) });
    const reader = r.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    const firstAt = Date.now() - began;
    expect(first).toContain("first");
    let rest = "";
    for (;;) {
      const c = await reader.read();
      if (c.done) break;
      rest += new TextDecoder().decode(c.value);
    }
    expect(rest).toContain("second");
    expect(firstAt).toBeLessThan(2500);
    expect(Date.now() - began).toBeGreaterThanOrEqual(3000);
  });

  test("limits: read, set live (the commands see it), refused for an unknown resource", async () => {
    const get = await api.call("GET", "/v1/guests/apig/limits");
    expect(get.status).toBe(200);
    expect(get.json.result.find((r: any) => r.name === "nproc")).toBeTruthy();
    const set = await api.call("PUT", "/v1/guests/apig/limits", { limits: { nproc: 50, nofile: 512 }, save: true });
    expect(set.status).toBe(200);
    const v = h.run("vlimit", ["--xid", "apig", "-d", "-a"]);
    expect(v.stdout).toMatch(/^NPROC\s.*\b50$/m);
    expect(readFileSync(`${h.cfg("apig")}/rlimits/nproc`, "utf8").trim()).toBe("50");
    // The guest's running processes have the new per-process limit, as seen from inside.
    expect(h.inGuest("apig", "cat", "/proc/1/limits").stdout).toMatch(/^Max open files\s+512\s+512\b/m);
    const after = await api.call("GET", "/v1/guests/apig/limits");
    expect(after.json.result.find((r: any) => r.name === "nproc").hard).toBe(50);
    const bad = await api.call("PUT", "/v1/guests/apig/limits", { limits: { nsock: 5 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/limits\.nsock/);
  });

  test("attributes: read, and saved for the next start", async () => {
    const get = await api.call("GET", "/v1/guests/apig/attributes");
    expect(get.json.result.live).toContain("SYS_TTY_CONFIG");
    const set = await api.call("PATCH", "/v1/guests/apig/attributes", { bcaps: ["~SYS_TTY_CONFIG"] });
    expect(set.status).toBe(200);
    expect(readFileSync(`${h.cfg("apig")}/bcapabilities`, "utf8")).toMatch(/~SYS_TTY_CONFIG/);
    const again = await api.call("GET", "/v1/guests/apig/attributes");
    expect(again.json.result.nextStart).not.toContain("SYS_TTY_CONFIG");
    const bad = await api.call("PATCH", "/v1/guests/apig/attributes", { flags: ["nosuchflag"] });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/nosuchflag/);
  });

  test("restart gives a new PID 1 without the capability dropped above", async () => {
    const before = (await api.call("GET", "/v1/guests/apig")).json.result.pid;
    const r = await api.call("POST", "/v1/guests/apig/restart");
    expect(r.status).toBe(200);
    expect(r.json.result.pid).not.toBe(before);
    const caps = await api.call("GET", "/v1/guests/apig/attributes");
    expect(caps.json.result.live).not.toContain("SYS_TTY_CONFIG");
  });

  test("the guest's log", async () => {
    const r = await api.fetch("/v1/guests/apig/log?lines=5");
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text.split("\n").filter(Boolean).length).toBeLessThanOrEqual(5);
    expect(text.length).toBeGreaterThan(0);
  });

  test("stop, then delete needs force and removes everything", async () => {
    const r = await api.call("POST", "/v1/guests/apig/stop");
    expect(r.status).toBe(200);
    expect(r.json.result.running).toBe(false);
    expect(h.vserver("apig", "running").code).toBe(1);
    const stopped = await api.call("POST", "/v1/guests/apig/stop");
    expect(stopped.status).toBe(409);
    const del = await api.call("DELETE", "/v1/guests/apig?force=1");
    expect(del.status).toBe(200);
    expect(existsSync(h.cfg("apig"))).toBe(false);
    expect(existsSync(h.vdir("apig"))).toBe(false);
    expect((await api.call("GET", "/v1/guests/apig")).status).toBe(404);
  });

  test("start-vservers is an asynchronous operation with each guest's outcome and progress", async () => {
    const r = await api.call("POST", "/v1/start-vservers", { action: "start", guests: ["apib"], jobs: 2 });
    expect(r.status).toBe(202);
    const op = await awaitOperation(r.json.operation);
    expect(op.status).toBe("succeeded");
    expect(op.result).toEqual([{ name: "apib", result: "started" }]);
    expect(op.output.join("\n")).toMatch(/apib/);
    expect(h.vserver("apib", "running").code).toBe(0);
    const stop = await awaitOperation((await api.call("POST", "/v1/start-vservers", { action: "stop", select: "running" })).json.operation);
    expect(stop.result).toEqual([{ name: "apib", result: "stopped" }]);
    expect(h.vserver("apib", "running").code).toBe(1);
    const missing = await awaitOperation((await api.call("POST", "/v1/start-vservers", { action: "start", guests: ["nosuch"] })).json.operation);
    expect(missing.status).toBe("failed");
    expect(missing.error).toMatch(/no guest named 'nosuch'/);
  });

  test("every API operation is in the journal with its caller and outcome", async () => {
    const r = await api.call("GET", "/v1/events?guest=apig&limit=1000");
    const ops = r.json.map((e: any) => `${e.op}:${e.ok}`);
    expect(ops).toEqual(expect.arrayContaining(["build:true", "build:false", "start:true", "start:false", "exec:true", "limit:true", "attribute:true", "restart:true", "stop:true", "delete:true"]));
    for (const e of r.json.filter((e: any) => e.caller?.via === "api")) expect(e.caller.uid).toBe(0);
    expect(r.json.filter((e: any) => e.caller?.via === "api").length).toBeGreaterThan(8);
  });
});

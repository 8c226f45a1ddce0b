// Packages through the API: `vserver NAME pkg` and vapt-get/vrpm/vyum as asynchronous operations.
// A busybox guest has no package manager that installs from a repository, only busybox's own
// rpm and dpkg applets: its rpm really runs inside the guest here, and `pkg install` is refused
// in one sentence naming the tools it looked for. The install path itself runs a stand-in
// apt-get (a script that says where it ran, as tests/integration/packages.test.ts does), which
// must get `install -y` and run inside the guest.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { TestHost, busyboxGuest } from "../helpers/host";
import { ApiClient } from "../helpers/api";

const h = new TestHost("apipkg");
const api = new ApiClient(h);

const FAKE_APT = `#!/bin/sh
echo "$(hostname) apt-get $*"
echo "$*" >> /apt-get.log
[ "$3" = broken ] && { echo "E: Unable to locate package broken" >&2; exit 100; }
exit 0
`;

beforeAll(async () => {
  await api.start();
  busyboxGuest(h, "ap1"); // busybox only
  busyboxGuest(h, "ap2", { "apps/init/mark": "web\n" });
  writeFileSync(`${h.vdir("ap2")}/usr/bin/apt-get`, FAKE_APT);
  chmodSync(`${h.vdir("ap2")}/usr/bin/apt-get`, 0o755);
  busyboxGuest(h, "ap3"); // stays stopped, with apt-get
  writeFileSync(`${h.vdir("ap3")}/usr/bin/apt-get`, FAKE_APT);
  chmodSync(`${h.vdir("ap3")}/usr/bin/apt-get`, 0o755);
  h.ok("ap1", "start");
  h.ok("ap2", "start");
});

afterAll(async () => {
  await api.stop();
  h.cleanup();
});

function journal(op: string, guest: string): any[] {
  return readFileSync(`${h.logDir}/events.log`, "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.op === op && e.guest === guest);
}

test("pkg install runs the guest's own package tool inside it, with -y, journaled as the API's", async () => {
  const op = await api.operation("POST", "/v1/guests/ap2/packages", { action: "install", packages: ["hello", "libfoo1=1.2-3"] });
  expect(op.status).toBe("succeeded");
  expect(op.op).toBe("packages");
  expect(op.result).toEqual({ exit: 0 });
  // The hostname the script printed is the guest's: it ran inside.
  expect(op.output).toContain("ap2 apt-get install -y hello libfoo1=1.2-3");
  expect(readFileSync(`${h.vdir("ap2")}/apt-get.log`, "utf8")).toBe("install -y hello libfoo1=1.2-3\n");
  const e = journal("exec", "ap2").at(-1);
  expect(e).toMatchObject({ ok: true, argv0: "pkg", action: "install", exit: 0, caller: { uid: 0, via: "api" } });
});

test("a tool that fails fails the operation, with its own output kept", async () => {
  const op = await api.operation("POST", "/v1/guests/ap2/packages", { action: "remove", packages: ["broken"] });
  expect(op.status).toBe("failed");
  expect(op.error).toBe("the package tool of guest 'ap2' ended with exit status 100; its output says why.");
  expect(op.output).toContain("E: Unable to locate package broken");
});

test("a busybox guest has no package tool to install with: refused in one sentence", async () => {
  const op = await api.operation("POST", "/v1/guests/ap1/packages", { action: "install", packages: ["hello"] });
  expect(op.status).toBe("failed");
  expect(op.kind).toBe("NotFoundError");
  expect(op.error).toBe("guest 'ap1' has none of the package tools apt-get, dnf, yum, apk, zypper.");
  const stopped = await api.operation("POST", "/v1/guests/ap3/packages", { action: "install", packages: ["hello"] });
  expect(stopped.status).toBe("failed");
  expect(stopped.kind).toBe("NotRunningError");
  expect(stopped.error).toContain("ap3");
});

test("vrpm: busybox's own rpm runs inside the guest; its failure is that guest's outcome, labelled", async () => {
  const op = await api.operation("POST", "/v1/packages", { tool: "rpm", args: ["-qpl", "/no/such.rpm"], guests: ["ap1"] });
  expect(op.status).toBe("succeeded");
  expect(op.op).toBe("vrpm");
  expect(op.result).toEqual([{ name: "ap1", result: "failed", detail: "exit status 1" }]);
  expect(op.output.some((l: string) => /^ap1: rpm: .*no\/such\.rpm/.test(l))).toBe(true);
  expect(journal("exec", "ap1").at(-1)).toMatchObject({ argv0: "rpm", exit: 1 });
});

test("vapt-get over a set: each running guest's outcome, stopped ones skipped, the tool inside each", async () => {
  const op = await api.operation("POST", "/v1/packages", { tool: "apt-get", args: ["update"], select: "all", jobs: 2 });
  expect(op.status).toBe("succeeded");
  const byName = Object.fromEntries((op.result as Array<{ name: string; result: string; detail?: string }>).map((o) => [o.name, o]));
  expect(byName.ap2).toEqual({ name: "ap2", result: "ok" });
  expect(byName.ap1).toEqual({ name: "ap1", result: "failed", detail: "apt-get: no such program in this guest" });
  expect(byName.ap3).toEqual({ name: "ap3", result: "skipped", detail: "not running" });
  expect(op.output).toContain("ap2: ap2 apt-get update");
  const marked = await api.operation("POST", "/v1/packages", { tool: "apt-get", args: ["upgrade", "-y"], select: "marked", mark: "web" });
  expect(marked.result).toEqual([{ name: "ap2", result: "ok" }]);
});

test("bad requests: 4xx and one sentence naming the field; no operation started", async () => {
  const before = (await api.call("GET", "/v1/operations")).json.length;
  const cases: Array<[string, unknown, number, string]> = [
    ["/v1/guests/ap2/packages", { action: "purge", packages: ["x"] }, 400, `body field 'action' must be "install" or "remove".`],
    ["/v1/guests/ap2/packages", { action: "install", packages: [] }, 400, "body field 'packages' must name at least one package."],
    ["/v1/guests/ap2/packages", { action: "install", packages: ["ok", "-o=APT::x"] }, 400, "body field 'packages.1' must be a package name (letters, digits, '+', '.', '_', ':', '=', '~', '-')."],
    ["/v1/guests/ap2/packages", { action: "install" }, 400, "body field 'packages' is required."],
    ["/v1/guests/ap2/packages", { action: "install", packages: ["x"], yes: true }, 400, "the body has unknown field 'yes'."],
    ["/v1/guests/nosuch/packages", { action: "install", packages: ["x"] }, 404, "there is no guest 'nosuch'."],
    ["/v1/packages", { tool: "dpkg", args: ["-l"], guests: ["ap1"] }, 400, `body field 'tool' must be "apt-get", "rpm" or "yum".`],
    ["/v1/packages", { tool: "apt-get", args: [], guests: ["ap1"] }, 400, "body field 'args' must give the tool at least one argument."],
    ["/v1/packages", { tool: "apt-get", args: ["update"], guests: ["ap1"], select: "all" }, 400, "the body needs either guests or select, not both."],
    ["/v1/packages", { tool: "apt-get", args: ["update"], select: "stopped" }, 400, "body field 'select' must be one of all, marked, unmarked, running."],
    ["/v1/packages", { tool: "apt-get", args: ["update"], select: "all", mark: "web" }, 400, "the body gives mark only with select marked."],
  ];
  for (const [path, body, status, error] of cases) {
    const r = await api.call("POST", path, body);
    expect({ path, body, status: r.status, error: r.json.error }).toEqual({ path, body, status, error });
  }
  const notJson = await api.call("POST", "/v1/packages", "{tool:");
  expect(notJson.status).toBe(400);
  expect(notJson.json.error).toBe("the body is not valid JSON.");
  expect((await api.call("GET", "/v1/operations")).json.length).toBe(before);
  // An unknown guest among names is the control plane's not-found error, as vapt-get says it.
  const unknown = await api.operation("POST", "/v1/packages", { tool: "apt-get", args: ["update"], guests: ["ap2", "nosuch"] });
  expect(unknown.status).toBe("failed");
  expect(unknown.kind).toBe("NotFoundError");
  expect(unknown.error).toContain("'nosuch'");
});

// The API's optional TCP listener: off by default; TLS only; a token or a client certificate
// signed by the configured CA is required, and everything else is refused; a bad setting leaves
// it off with one sentence naming the file.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { TestHost, busyboxGuest } from "../helpers/host";
import { ApiClient } from "../helpers/api";
import { freePort, makeTestPki } from "../helpers/test-pki";

const h = new TestHost("apitcp");
const api = new ApiClient(h);
const pki = `${h.root}/pki`;
const conf = `${h.confDir}/.api`;
const TOKEN = "s3cret-token-for-ops-0123456789";
let port = 0;

/** curl against the TCP listener; returns the HTTP status (0: no HTTP answer at all). */
function curl(path: string, ...args: string[]): { status: number; body: string } {
  const r = Bun.spawnSync(["curl", "-s", "--max-time", "10", "-o", "-", "-w", "\n%{http_code}", ...args, `https://127.0.0.1:${port}${path}`], { stdout: "pipe", stderr: "pipe" });
  const out = r.stdout.toString();
  const i = out.lastIndexOf("\n");
  return { status: Number(out.slice(i + 1)) || 0, body: out.slice(0, i) };
}

async function restart(): Promise<void> {
  await api.stop();
  await api.start();
  await Bun.sleep(300);
}

beforeAll(async () => {
  port = freePort();
  makeTestPki(pki, { clients: ["client"], stranger: true });
  busyboxGuest(h, "tcpg");
  await api.start();
});
afterAll(async () => {
  await api.stop();
  h.cleanup();
});

function configure(files: Record<string, string>): void {
  rmSync(conf, { recursive: true, force: true });
  mkdirSync(conf, { recursive: true, mode: 0o700 });
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(`${conf}/${name}`, content);
    chmodSync(`${conf}/${name}`, 0o600);
  }
}

const file = (n: string) => Bun.file(`${pki}/${n}`).text();

describe("the TCP listener", () => {
  test("is off by default", () => {
    expect(curl("/v1", "-k").status).toBe(0);
  });

  test("with tokens: none or a wrong one is refused, the right one accepted and named in the journal", async () => {
    configure({ listen: `127.0.0.1:${port}\n`, "cert.pem": await file("server.pem"), "key.pem": await file("server.key"), tokens: `# name token\nops ${TOKEN}\n` });
    await restart();
    const ca = ["--cacert", `${pki}/ca.pem`];
    const none = curl("/v1/guests", ...ca);
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body).error).toMatch(/needs a token/);
    expect(curl("/v1/guests", ...ca, "-H", "Authorization: Bearer wrong-token-0123456789").status).toBe(401);
    expect(curl("/v1/guests", ...ca, "-H", `Authorization: Bearer ${TOKEN}x`).status).toBe(401);
    const ok = curl("/v1/guests", ...ca, "-H", `Authorization: Bearer ${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).result.map((g: any) => g.name)).toEqual(["tcpg"]);
    // A refused caller changes nothing.
    expect(curl("/v1/guests/tcpg/start", ...ca, "-X", "POST").status).toBe(401);
    expect(h.vserver("tcpg", "running").code).toBe(1);
    expect(curl("/v1/guests/tcpg/start", ...ca, "-X", "POST", "-H", `Authorization: Bearer ${TOKEN}`).status).toBe(200);
    expect(h.vserver("tcpg", "running").code).toBe(0);
    const ev = JSON.parse(curl("/v1/events?guest=tcpg&op=start&limit=1", ...ca, "-H", `Authorization: Bearer ${TOKEN}`).body)[0];
    expect(ev.caller).toEqual({ uid: 0, via: "api-tcp", who: "token ops" });
    h.ok("tcpg", "stop");
  });

  test("speaks TLS only", () => {
    const r = Bun.spawnSync(["curl", "-s", "--max-time", "5", "-H", `Authorization: Bearer ${TOKEN}`, `http://127.0.0.1:${port}/v1`]);
    expect(r.stdout.toString()).not.toContain('"api"');
  });

  test("with a client CA: a signed client certificate is accepted, none or a stranger's refused", async () => {
    configure({ listen: `127.0.0.1:${port}\n`, "cert.pem": await file("server.pem"), "key.pem": await file("server.key"), "client-ca.pem": await file("ca.pem") });
    await restart();
    const ca = ["--cacert", `${pki}/ca.pem`];
    expect(curl("/v1", ...ca, "--cert", `${pki}/client.pem`, "--key", `${pki}/client.key`).status).toBe(200);
    expect(curl("/v1", ...ca).status).toBe(0);
    expect(curl("/v1", ...ca, "--cert", `${pki}/stranger.pem`, "--key", `${pki}/stranger.key`).status).toBe(0);
  });

  test("a bad setting leaves it off, names the file, and the Unix socket still serves", async () => {
    configure({ listen: "port 80\n", "cert.pem": "", "key.pem": "" });
    await restart();
    expect(api.stderr).toContain(`${conf}/listen: 'port 80' is not ADDRESS:PORT`);
    expect(api.stderr).toContain("The TCP API is off.");
    expect((await api.call("GET", "/v1")).status).toBe(200);

    configure({ listen: `127.0.0.1:${port}\n`, "cert.pem": await file("server.pem"), "key.pem": await file("server.key"), tokens: `ops ${TOKEN}\n` });
    chmodSync(`${conf}/key.pem`, 0o644);
    await restart();
    expect(api.stderr).toContain(`${conf}/key.pem: is readable by other users`);
    expect(curl("/v1", "-k").status).toBe(0);

    configure({ listen: `127.0.0.1:${port}\n`, "cert.pem": await file("server.pem"), "key.pem": await file("server.key"), tokens: "ops short\n" });
    await restart();
    expect(api.stderr).toContain(`${conf}/tokens, line 1: not 'NAME TOKEN'`);
    rmSync(conf, { recursive: true, force: true });
  });
});

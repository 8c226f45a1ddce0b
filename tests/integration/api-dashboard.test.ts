// The web dashboard in a real headless Chromium (Debian's package, driven by puppeteer-core):
// sign in with a token, see the guests, start one, run a command in it, read its log, enter it
// through the console, stop it;
// each step checked with the commands from outside too. A token limited to one guest sees a
// dashboard of that guest only. Screenshots are kept in
// /tmp/vserver-dashboard-screens/ (replaced by each run). Requests from another site's page
// are refused (CSRF).

import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import puppeteer, { type Browser } from "puppeteer-core";
import { TestHost, busyboxGuest } from "../helpers/host";
import { ApiClient } from "../helpers/api";
import { freePort, makeTestPki } from "../helpers/test-pki";

const h = new TestHost("apidash");
const api = new ApiClient(h);
const SHOTS = "/tmp/vserver-dashboard-screens";
const TOKEN = "dashboard-token-0123456789abcdef";
const VIEWER = "viewer-token-sees-dash2-0123456";
let port = 0;
let browser: Browser | undefined;

beforeAll(async () => {
  port = freePort();
  const conf = `${h.confDir}/.api`;
  mkdirSync(conf, { recursive: true, mode: 0o700 });
  makeTestPki(`${h.root}/pki`);
  copyFileSync(`${h.root}/pki/server.key`, `${conf}/key.pem`);
  copyFileSync(`${h.root}/pki/server.pem`, `${conf}/cert.pem`);
  writeFileSync(`${conf}/listen`, `127.0.0.1:${port}\n`);
  writeFileSync(`${conf}/tokens`, `admin ${TOKEN}\nviewer ${VIEWER} dash2\n`);
  for (const f of ["key.pem", "tokens"]) chmodSync(`${conf}/${f}`, 0o600);
  busyboxGuest(h, "dash1", { "uts/nodename": "dash1.example\n" });
  busyboxGuest(h, "dash2");
  await api.start();
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  browser = await puppeteer.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    acceptInsecureCerts: true, // signed by the test's own CA, which the browser does not know
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
});
afterAll(async () => {
  await browser?.close();
  await api.stop();
  h.cleanup();
});

const stateOf = (page: import("puppeteer-core").Page, guest: string) => page.$eval(`tr[data-guest="${guest}"] td.state`, (td) => td.textContent);

async function until(cond: () => Promise<boolean>, ms = 20000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("timed out waiting in the browser");
    await Bun.sleep(100);
  }
}

test("sign in, start, run a command, read the log, use the console, stop", async () => {
  const page = await browser!.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("console", (m) => m.type() === "error" && !/401/.test(m.text()) && problems.push(m.text()));
  await page.goto(`https://127.0.0.1:${port}/`);
  await page.waitForSelector("#token");
  await page.screenshot({ path: `${SHOTS}/1-sign-in.png` });
  await page.type("#token", TOKEN);
  await page.click("#login button");
  await page.waitForSelector('tr[data-guest="dash1"]');
  expect(await stateOf(page, "dash1")).toBe("stopped");
  await page.screenshot({ path: `${SHOTS}/2-guests.png` });

  await page.click('tr[data-guest="dash1"] button.start');
  await until(async () => (await stateOf(page, "dash1")) === "running");
  expect(h.vserver("dash1", "running").code).toBe(0);
  // Live usage appears without a reload.
  await until(async () => (await page.$eval('tr[data-guest="dash1"] td:nth-child(5)', (td) => td.textContent ?? "")).includes("MiB"));
  await page.screenshot({ path: `${SHOTS}/3-running.png` });

  await page.click('tr[data-guest="dash1"] a');
  await page.waitForSelector("#cmd");
  await page.type("#cmd", "hostname; echo from-the-dashboard");
  await page.click("#exec button");
  await page.waitForFunction(() => document.querySelector("#output")?.textContent?.includes("[exit 0]"));
  const out = await page.$eval("#output", (p) => p.textContent);
  expect(out).toContain("dash1.example");
  expect(out).toContain("from-the-dashboard");
  await page.waitForFunction(() => (document.querySelector("#log")?.textContent ?? "").includes("start of 'dash1'"));
  expect(await page.$eval("#stat", (t) => t.textContent)).toContain("dash1");
  await page.screenshot({ path: `${SHOTS}/4-command-and-log.png`, fullPage: true });

  // The console: a root shell in the guest on a fresh pty, through xterm.js and a websocket.
  await page.click("#open-console");
  await page.waitForSelector("#terminal .xterm");
  const screen = () => page.evaluate(() => {
    const b = (window as any).vserverTerminal?.buffer.active;
    const lines: string[] = [];
    for (let i = 0; b && i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? "");
    return lines.join("\n");
  });
  await until(async () => /#\s*$/m.test(await screen()));
  await page.keyboard.type("echo console-$((6*7)); hostname; tty\n");
  await until(async () => (await screen()).includes("console-42"));
  const text = await screen();
  expect(text).toContain("dash1.example");
  expect(text).toMatch(/^\/dev\/pts\/\d+$/m);
  await page.screenshot({ path: `${SHOTS}/5-console.png`, fullPage: true });
  await page.keyboard.type("exit\n");
  await until(async () => (await screen()).includes("[the shell ended: 0]"));
  const enter = (await (await fetch(`https://127.0.0.1:${port}/v1/events?op=enter&guest=dash1&limit=1`, { headers: { authorization: `Bearer ${TOKEN}` }, tls: { rejectUnauthorized: false } } as RequestInit)).json())[0];
  expect(enter.ok).toBe(true);
  expect(enter.caller).toEqual({ uid: 0, via: "api-tcp", who: "token admin" });
  await page.click("#close-console");

  await page.click('tr[data-guest="dash1"] button.stop');
  await until(async () => (await stateOf(page, "dash1")) === "stopped");
  expect(h.vserver("dash1", "running").code).toBe(1);
  await page.waitForFunction(() => (document.querySelector("#events")?.textContent ?? "").includes("stop"));
  await page.screenshot({ path: `${SHOTS}/6-stopped.png`, fullPage: true });
  expect(problems).toEqual([]);
  await page.close();
}, 120000);

test("the console refuses a websocket without the token", async () => {
  const ws = new WebSocket(`wss://127.0.0.1:${port}/v1/guests/dash1/console`, { tls: { rejectUnauthorized: false } } as any);
  const closed = new Promise<{ code: number; reason: string }>((r) => (ws.onclose = (e) => r({ code: e.code, reason: e.reason })));
  let output = "";
  ws.onmessage = (e) => (output += String(e.data));
  ws.onopen = () => ws.send(JSON.stringify({ cols: 80, rows: 24, token: "wrong-token-0123456789" }));
  const c = await closed;
  expect(c.code).toBe(4401);
  expect(c.reason).toMatch(/needs a token/);
  expect(output).toBe("");
});

test("a wrong token gets the sign-in form back and shows no guest", async () => {
  const ctx = await browser!.createBrowserContext();
  const page = await ctx.newPage();
  await page.goto(`https://127.0.0.1:${port}/ui/`);
  await page.waitForSelector("#token");
  await page.type("#token", "not-the-token-0123456789");
  await page.click("#login button");
  await Bun.sleep(1500);
  expect(await page.$("#token")).not.toBeNull();
  expect(await page.content()).not.toContain("dash1");
  await ctx.close();
});

test("a token limited to one guest shows that guest only: its row, vserver-stat and events", async () => {
  h.ok("dash1", "start"); // running, it would be in the vserver-stat view; its start is an event
  try {
    const ctx = await browser!.createBrowserContext();
    const page = await ctx.newPage();
    await page.goto(`https://127.0.0.1:${port}/ui/`);
    await page.waitForSelector("#token");
    await page.type("#token", VIEWER);
    await page.click("#login button");
    await page.waitForSelector('tr[data-guest="dash2"]');
    await Bun.sleep(2500); // a refresh of every view (every 2 s)
    await page.screenshot({ path: `${SHOTS}/7-scoped.png`, fullPage: true });
    expect(await page.content()).not.toContain("dash1");
    await ctx.close();
  } finally {
    h.ok("dash1", "stop");
  }
}, 60000);

test("another site's page cannot make the browser act (CSRF), even with the token", async () => {
  const curl = (...headers: string[]) => {
    const r = Bun.spawnSync(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", `Authorization: Bearer ${TOKEN}`, ...headers.flatMap((x) => ["-H", x]), `https://127.0.0.1:${port}/v1/guests/dash1/start`]);
    return Number(r.stdout.toString());
  };
  expect(curl("Origin: https://evil.example")).toBe(403);
  expect(curl("Sec-Fetch-Site: cross-site")).toBe(403);
  expect(h.vserver("dash1", "running").code).toBe(1);
  // And from a real page of another origin, in the browser.
  const other = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("<p>elsewhere</p>", { headers: { "content-type": "text/html" } }) });
  try {
    const page = await browser!.newPage();
    await page.goto(`http://127.0.0.1:${other.port}/`);
    const status = await page.evaluate(async (url, token) => {
      try {
        const r = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${token}` } });
        return r.status;
      } catch {
        return 0; // CORS: the browser would not even show the answer
      }
    }, `https://127.0.0.1:${port}/v1/guests/dash1/start`, TOKEN);
    expect(status === 0 || status === 403).toBe(true);
    await Bun.sleep(500);
    expect(h.vserver("dash1", "running").code).toBe(1);
    await page.close();
  } finally {
    other.stop(true);
  }
});

// The REST API of the host service: HTTP on a Unix socket of the state root (api.sock, mode
// 0600 in the service's 0700 directory: root only, like the commands' socket). Every request
// that touches a guest runs as one operation process through the control plane
// (service/api/operation.ts); events come from the journal every process writes; the service
// itself keeps no guest state.

import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import type { Paths } from "../../pure/paths";
import { guestPaths } from "../../pure/paths";
import { openApiDocument } from "../../pure/api/openapi";
import { eventMatches, followJournal, readJournal, type JournalEntry } from "../../drivers/journal-reader";
import { record, type Caller } from "../../drivers/journal";
import { writeErr } from "../../drivers/output";
import { loadTcpConfig, tokenIdentity, type Tokens } from "./auth";
import { admit, operationVisible, visibleEvents, visibleMetrics, visibleRows } from "./access";
import { Scope } from "../../pure/api/scope";
import { crossSite, dashboardFile, isDashboardPath } from "./dashboard";
import { consoleHandlers, type ConsoleData } from "./console";
import { BadRequest, json, match, problem, statusOfKind, type Matched } from "./http";
import { OperationRunner } from "./operation-runner";
import type { OperationRequest } from "./operation";
import { AsyncOperations } from "./async-operations";
import { JournalCounters, metricsText, type GuestMetricsInput } from "./metrics";
import { watchGuestStates } from "./state-watch";

export const API_VERSION = "1";

/** What a handler needs of Bun's server to turn a request into a websocket. */
interface Upgrader {
  upgrade(req: Request, o: { data: ConsoleData }): boolean;
}

export interface ApiOptions {
  /** The operation process's command line. */
  operationArgv: string[];
  /** `vserverd --console`'s command line, to which the guest's name and the caller are added. */
  consoleArgv: string[];
  /** Called on every request (the service's idle timer). */
  onRequest(): void;
}

type Subscriber = (evs: JournalEntry[]) => void;

export function apiSocketOf(paths: Paths): string {
  return `${paths.serviceDir}/api.sock`;
}

export function startApi(paths: Paths, o: ApiOptions): { stop(): void } {
  const runner = new OperationRunner(o.operationArgv);
  runner.warm();
  const asyncOps = new AsyncOperations();
  const counters = new JournalCounters();
  const subscribers = new Set<Subscriber>();
  // The journal's directory, made now (as its first writer would) so that the follower watches
  // it from the start rather than finding it on a later poll.
  mkdirSync(paths.logDir, { recursive: true, mode: 0o750 });
  const follower = followJournal(paths.logDir, (evs) => {
    counters.add(evs);
    for (const s of subscribers) s(evs);
  });
  const settle = async () => {
    await runner.run({ op: "settle" }, { uid: 0, via: "service" }).answer;
  };
  const watcher = watchGuestStates(paths, settle);
  // A client following the events or in a console is using the service: no idle end under it.
  let consoles = 0;
  const keepAlive = setInterval(() => (subscribers.size || consoles) && o.onRequest(), 30000);

  /** Run an operation and answer with its result as JSON, `shown` as the caller may see it. */
  const operate = async (request: OperationRequest, caller: Caller, shown: (result: unknown) => unknown = (r) => r): Promise<Response> => {
    const running = runner.run(request, caller);
    for await (const _ of running.output); // nothing but exec writes; drain so the process cannot block
    const a = await running.answer;
    if (!a.ok) return json(statusOfKind(a.kind), { error: a.error, kind: a.kind, ...(a.warnings.length ? { warnings: a.warnings } : {}) });
    const result = shown(a.result);
    return json(200, a.warnings.length ? { result, warnings: a.warnings } : { result });
  };

  /** A long operation: answered at once with its id, polled or awaited at /v1/operations/ID. */
  const background = (op: string, guest: string | undefined, request: OperationRequest, caller: Caller, guests = guest === undefined ? [] : [guest]): Response => {
    // A mistyped name is the request's fault, said now rather than as a failed operation later.
    if (guest !== undefined && op !== "build" && !guestKnown(guest)) return noSuchGuest(guest);
    const view = asyncOps.start(op, guest, guests, runner.run(request, caller));
    return json(202, { operation: view.id, href: `/v1/operations/${view.id}` }, { location: `/v1/operations/${view.id}` });
  };

  const execStream = async (m: Matched, caller: Caller): Promise<Response> => {
    const b = m.body as { argv: string[]; user?: string; cwd?: string; stdin?: string };
    const running = runner.run({ op: "exec", name: m.params.name!, argv: b.argv, user: b.user, cwd: b.cwd }, caller, b.stdin ?? "");
    const chunks = running.output[Symbol.asyncIterator]();
    // Until the command writes, a refusal (no such guest, not running, no such program) can
    // still be an HTTP status of its own; after that the outcome is the stream's last line.
    const firstChunk = chunks.next();
    const first = await Promise.race([firstChunk, running.answer.then((a) => ({ answer: a }))]);
    const early = "answer" in first ? first.answer : first.done ? await running.answer : undefined;
    if (early && !early.ok) return json(statusOfKind(early.kind), { error: early.error, kind: early.kind });
    const enc = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async start(ctl) {
        const line = (o: unknown) => ctl.enqueue(enc.encode(JSON.stringify(o) + "\n"));
        let next = await firstChunk;
        while (!next.done) {
          line({ [next.value.stream]: next.value.text });
          next = await chunks.next();
        }
        const a = await running.answer;
        for (const w of a.warnings) line({ warning: w });
        line(a.ok ? { exit: (a.result as { exit: number }).exit } : { error: a.error, kind: a.kind, status: statusOfKind(a.kind) });
        ctl.close();
      },
      cancel() {
        running.kill(); // the client went away: the command goes with it, as with a killed `vserver exec`
      },
    });
    return new Response(stream, { headers: { "content-type": "application/x-ndjson" } });
  };

  const events = (m: Matched, req: Request, scope: Scope): Response => {
    const list = (s?: string) => (s ? s.split(",").filter(Boolean) : []);
    const guests = list(m.query.guest);
    const ops = list(m.query.op);
    if (m.query.follow !== "1") {
      const all = visibleEvents(scope, readJournal(paths.logDir)).filter((e) => eventMatches(e, guests, ops));
      return json(200, all.slice(-(Number(m.query.limit ?? 100))));
    }
    const enc = new TextEncoder();
    let sub: Subscriber | undefined;
    let ping: ReturnType<typeof setInterval> | undefined;
    const stream = new ReadableStream<Uint8Array>({
      start(ctl) {
        ctl.enqueue(enc.encode(": following the journal\n\n"));
        sub = (evs) => {
          for (const e of visibleEvents(scope, evs)) if (eventMatches(e, guests, ops)) ctl.enqueue(enc.encode(`event: ${e.op}\ndata: ${JSON.stringify(e)}\n\n`));
        };
        subscribers.add(sub);
        ping = setInterval(() => ctl.enqueue(enc.encode(": ping\n\n")), 15000);
        req.signal.addEventListener("abort", () => {
          subscribers.delete(sub!);
          clearInterval(ping);
        });
      },
      cancel() {
        subscribers.delete(sub!);
        clearInterval(ping);
      },
    });
    return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
  };

  const guestKnown = (name: string): boolean => {
    const gp = guestPaths(paths, name);
    return existsSync(gp.cfgDir) || existsSync(gp.legacyConf);
  };
  const noSuchGuest = (name: string) => problem(404, `there is no guest '${name}'.`, "NotFoundError");

  const guestLog = (m: Matched): Response => {
    const gp = guestPaths(paths, m.params.name!);
    if (!guestKnown(m.params.name!)) return noSuchGuest(m.params.name!);
    let text = "";
    try {
      text = readFileSync(gp.log, "utf8");
    } catch {}
    const lines = text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    const n = Number(m.query.lines ?? 100);
    return new Response(lines.slice(-n).join("\n") + (lines.length ? "\n" : ""), { headers: { "content-type": "text/plain; charset=utf-8" } });
  };

  // Routes whose scope class is "filtered" (pure/api/schema.ts) answer with the caller's guests only.
  const handle = async (m: Matched, req: Request, caller: Caller, scope: Scope, srv: Upgrader, tokens?: Tokens): Promise<Response | undefined> => {
    const name = m.params.name!;
    const byName = (rows: unknown) => visibleRows(scope, rows as Array<{ name: string }>);
    switch (m.name) {
      case "index": return json(200, { api: "vserver", version: API_VERSION, openapi: "/v1/openapi.json" });
      case "openapi": return json(200, openApiDocument(API_VERSION));
      case "listGuests": return operate({ op: "list" }, caller, byName);
      case "getGuest": return operate({ op: "status", name }, caller);
      case "startGuest": return operate({ op: "start", name }, caller);
      case "stopGuest": return operate({ op: "stop", name }, caller);
      case "restartGuest": return operate({ op: "restart", name }, caller);
      case "deleteGuest": return operate({ op: "delete", name }, caller);
      case "getLimits": return operate({ op: "limits", name }, caller);
      case "setLimits": return operate({ op: "setLimits", name, ...(m.body as object) } as OperationRequest, caller);
      case "getAttributes": return operate({ op: "attributes", name }, caller);
      case "setAttributes": return operate({ op: "setAttributes", name, ...(m.body as object) } as OperationRequest, caller);
      case "stat": return operate({ op: "stat" }, caller, byName);
      case "execInGuest": return execStream(m, caller);
      case "console":
        if (srv.upgrade(req, { data: { name, caller, tokens } })) return undefined;
        return problem(400, "the console is a websocket: connect with an Upgrade: websocket request.");
      case "guestLog": return guestLog(m);
      case "events": return events(m, req, scope);
      case "buildGuest": return background("build", (m.body as { name: string }).name, { op: "build", body: m.body as never }, caller);
      case "startVservers": return background("start-vservers", undefined, { op: "boot", body: m.body as never }, caller, (m.body as { guests?: string[] }).guests);
      case "hashifyGuest": return background("hashify", name, { op: "hashify", name }, caller);
      case "deunifyGuest": return background("unify-R", name, { op: "deunify", name }, caller);
      case "unifyGc": return background("gc", undefined, { op: "gc" }, caller);
      case "guestPackages": return background("packages", name, { op: "packages", name, ...(m.body as { action: "install" | "remove"; packages: string[] }) }, caller);
      case "packageTool": {
        const body = m.body as { tool: string };
        return background(`v${body.tool}`, undefined, { op: "packageTool", body: m.body as never }, caller, (m.body as { guests?: string[] }).guests);
      }
      case "guestDiskUse": return operate({ op: "du", name }, caller);
      case "listOperations": return json(200, asyncOps.list().filter((v) => operationVisible(scope, v)));
      case "getOperation": {
        const seen = asyncOps.get(m.params.id!);
        const v = seen && operationVisible(scope, seen) ? await asyncOps.wait(m.params.id!, Number(m.query.wait ?? 0)) : undefined;
        return v ? json(200, v) : problem(404, `there is no operation '${m.params.id}' (operations last as long as the service).`, "NotFoundError");
      }
      case "metrics": {
        const running = runner.run({ op: "metrics" }, caller);
        for await (const _ of running.output);
        const a = await running.answer;
        if (!a.ok) return problem(500, a.error, a.kind);
        follower.catchUp(); // the counters include everything journaled before this scrape
        return new Response(metricsText(visibleMetrics(scope, a.result as GuestMetricsInput), counters, scope), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
      }
    }
  };

  const serve = async (req: Request, caller: Caller, scope: Scope, srv: Upgrader, tokens?: Tokens): Promise<Response | undefined> => {
    o.onRequest();
    const path = new URL(req.url).pathname;
    if (isDashboardPath(path) && (req.method === "GET" || req.method === "HEAD")) return dashboardFile(path);
    if (crossSite(req)) return problem(403, "this request came from another site's page; the API answers only its own dashboard and programs.");
    try {
      const m = await match(req);
      return admit(m, scope) ?? (await handle(m, req, caller, scope, srv, tokens));
    } catch (e) {
      if (e instanceof BadRequest) return problem(e.status, e.message);
      return problem(500, (e as Error).message);
    }
  };

  const websocket = consoleHandlers((name, who) => [...o.consoleArgv, name, JSON.stringify(who)], (n) => (consoles += n));
  const socket = apiSocketOf(paths);
  rmSync(socket, { force: true });
  const server = Bun.serve({
    unix: socket,
    fetch(req, srv) {
      srv.timeout(req, 0); // event streams and long operations stay open however quiet
      // The socket admits root only; its peer's pid is not visible through the HTTP server.
      return serve(req, { uid: 0, via: "api" }, Scope.ALL, srv);
    },
    websocket,
  });
  chmodSync(socket, 0o600);

  // The optional TCP listener (service/api/auth.ts): a bad setting leaves it off and says why.
  let tcp: ReturnType<typeof Bun.serve> | undefined;
  try {
    const t = loadTcpConfig(paths);
    if (t) {
      tcp = Bun.serve({
        hostname: t.hostname,
        port: t.port,
        tls: { cert: t.cert, key: t.key, ...(t.clientCa ? { ca: t.clientCa, requestCert: true, rejectUnauthorized: true } : {}) },
        fetch(req, srv) {
          srv.timeout(req, 0);
          if (t.clientCa) return serve(req, { uid: 0, via: "api-tcp", who: "client certificate" }, Scope.ALL, srv);
          const id = tokenIdentity(req, t.tokens);
          const path = new URL(req.url).pathname;
          // A browser cannot put a token in a websocket's headers: the console's first message
          // carries it, and the console checks its scope then (service/api/console.ts).
          if (!id && /^\/v1\/guests\/[^/]+\/console$/.test(path)) return serve(req, { uid: 0, via: "api-tcp" }, Scope.ALL, srv, t.tokens);
          // The dashboard's files carry no data: the page asks for the token, then the API.
          if (!id && !isDashboardPath(path)) {
            return Promise.resolve(json(401, { error: "this API needs a token: send 'Authorization: Bearer TOKEN' with a token of the service's .api/tokens." }, { "www-authenticate": "Bearer" }));
          }
          return serve(req, id ? { uid: 0, via: "api-tcp", who: id.who } : { uid: 0, via: "api-tcp" }, id?.scope ?? Scope.ALL, srv);
        },
        websocket,
      });
    }
  } catch (e) {
    writeErr(`vserverd: ${(e as Error).message} The TCP API is off.\n`);
    record(paths.logDir, { op: "api-listen", ok: false, error: (e as Error).message, caller: { uid: 0, via: "service" } });
  }

  return {
    stop() {
      follower.stop();
      watcher.stop();
      clearInterval(keepAlive);
      runner.close();
      server.stop(true);
      tcp?.stop(true);
      rmSync(socket, { force: true });
    },
  };
}

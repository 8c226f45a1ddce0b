// The REST API's requests, written once: the server validates every request against these
// definitions, and the OpenAPI document (pure/api/openapi.ts) is generated from the same ones, so
// the two cannot disagree. zod because it validates and describes from one definition, with
// JSON Schema output built in (docs/dependencies.md).

import { z } from "zod";
import { GUEST_NAME_RE } from "../paths";
import { PACKAGE_NAME_RE } from "../package-name";

export const API_PREFIX = "/v1";

const guestName = z.string().regex(GUEST_NAME_RE, { error: "must be a guest name (letters, digits, '.', '_', '-'; at most 63)" });

/** A limit: a positive number, or "inf" for none. */
const LIMIT_PROBLEM = 'must be a whole number or "inf"';
const limitValue = z.union([z.number({ error: LIMIT_PROBLEM }).int({ error: LIMIT_PROBLEM }).nonnegative({ error: LIMIT_PROBLEM }), z.literal("inf")], { error: LIMIT_PROBLEM });

const capItem = z.string().regex(/^[~!]?[A-Za-z_]+$/, { error: "must be a capability name, '~' or '!' before it to remove it" });
const flagItem = z.string().regex(/^[~!]?[A-Za-z_]+$/, { error: "must be a flag name, '~' or '!' before it to clear it" });

export const NameParams = z.object({ name: guestName });
export const OperationParams = z.object({ id: z.string().regex(/^[0-9a-f]{16}$/, { error: "must be an operation id (16 hex digits)" }) });

export const BuildBody = z.strictObject({
  name: guestName,
  method: z.string().min(1).describe("busybox, skeleton, debootstrap, clone, template, rsync, legacy or oci (as `vserver NAME build -m`)"),
  context: z.union([z.number().int().min(2).max(65535), z.string().regex(/^\d+$/)], { error: "must be a context number from 2 to 65535" }).optional(),
  hostname: z.string().min(1).max(253).optional(),
  initstyle: z.string().min(1).optional(),
  flags: z.array(z.string().min(1)).optional(),
  interfaces: z.array(z.string().min(1)).optional().describe("as --interface: [name=][dev:]IP[/PREFIX]"),
  force: z.boolean().optional(),
  methodArgs: z.array(z.string()).optional().describe("what follows `--` on the command line"),
});

type Chosen = { guests?: unknown; select?: unknown; mark?: unknown };

/** The guests an operation on many acts on: names, or a set as the commands' --all, --marked, ... */
function manyGuests<S extends z.ZodRawShape, const K extends readonly [string, ...string[]]>(shape: S, sets: K, command: string) {
  return z.strictObject({
    ...shape,
    guests: z.array(guestName).min(1, { error: "must name at least one guest" }).optional(),
    select: z.enum(sets, { error: `must be one of ${sets.join(", ")}` }).optional().describe(`instead of guests: as ${command} --all, --marked, ...`),
    mark: z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: "must be a mark name" }).optional().describe("with select marked (default: default)"),
    jobs: z.number().int().min(1).max(64, { error: "must be from 1 to 64" }).optional(),
  }).refine((b: Chosen) => (b.guests ? 1 : 0) + (b.select ? 1 : 0) === 1, { error: "needs either guests or select, not both" })
    .refine((b: Chosen) => b.mark === undefined || b.select === "marked", { error: "gives mark only with select marked" });
}

export const BootBody = manyGuests({ action: z.enum(["start", "stop"]) }, ["all", "marked", "unmarked", "running", "stopped"], "start-vservers");

const packageName = z.string().regex(PACKAGE_NAME_RE, { error: "must be a package name (letters, digits, '+', '.', '_', ':', '=', '~', '-')" });

export const PackagesBody = z.strictObject({
  action: z.enum(["install", "remove"], { error: 'must be "install" or "remove"' }),
  packages: z.array(packageName).min(1, { error: "must name at least one package" }),
});

/** A command runs inside running guests only: there is no set of stopped guests to choose. */
export const PackageToolBody = manyGuests({
  tool: z.enum(["apt-get", "rpm", "yum"], { error: 'must be "apt-get", "rpm" or "yum"' }).describe("the guests' own tool: vapt-get, vrpm, vyum"),
  args: z.array(z.string()).min(1, { error: "must give the tool at least one argument" }).describe("what follows `--` on the command line"),
}, ["all", "marked", "unmarked", "running"], "vapt-get");

export const DeleteQuery = z.strictObject({ force: z.enum(["1", "true"], { error: 'must be "1" or "true": a delete through the API cannot ask for confirmation' }) });

export const ExecBody = z.strictObject({
  argv: z.array(z.string()).min(1, { error: "must name a command: at least one word" }),
  user: z.string().min(1).optional(),
  cwd: z.string().startsWith("/", { error: "must be an absolute path in the guest" }).optional(),
  stdin: z.string().max(1 << 20).optional().describe("text given to the command's standard input"),
});

export const LimitsBody = z.strictObject({
  limits: z.record(z.string().regex(/^[a-z-]+$/), limitValue).refine((o) => Object.keys(o).length > 0, { error: "must name at least one resource" }),
  which: z.enum(["both", "soft", "hard"]).optional().describe("for per-process limits: which half (default both)"),
  save: z.boolean().optional().describe("also write the values into the guest's config"),
});

export const AttributesBody = z.strictObject({
  bcaps: z.array(capItem).optional(),
  flags: z.array(flagItem).optional(),
}).refine((o) => (o.bcaps?.length ?? 0) + (o.flags?.length ?? 0) > 0, { error: "needs bcaps or flags to change" });

export const LogQuery = z.strictObject({ lines: z.coerce.number().int().min(1).max(10000).optional() });

export const WaitQuery = z.strictObject({ wait: z.coerce.number().min(0).max(600).optional().describe("seconds to wait for the operation to end") });

const csv = z.string().regex(/^[A-Za-z0-9_.,-]+$/, { error: "must be a comma-separated list of names" });
export const EventsQuery = z.strictObject({
  guest: csv.optional(),
  op: csv.optional().describe("operations and state changes: start, stop, exit, oom, reboot, ..."),
  follow: z.enum(["0", "1"]).optional().describe("1: a server-sent event stream of what happens from now on"),
  limit: z.coerce.number().int().min(1).max(10000).optional().describe("without follow: the last N events (default 100)"),
});

export type Schema = z.ZodType;

export interface RouteDef {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** OpenAPI form: /v1/guests/{name}. */
  path: string;
  summary: string;
  params?: z.ZodObject;
  query?: Schema;
  body?: Schema;
  /**
   * What a caller limited to some guests (pure/api/scope.ts) may do here: `open` carries no
   * guest's data; `guest` acts on the path's {name}; `newGuest` on the body's name; `someGuests`
   * on the body's `guests` (a set chosen by `select` could reach guests outside the scope, so it
   * is refused); `filtered` answers with the caller's guests only; `host` acts on every guest
   * and is refused.
   */
  scope: "open" | "guest" | "newGuest" | "someGuests" | "filtered" | "host";
  /** The status and content type of a success. */
  ok: { status: number; type: "application/json" | "application/x-ndjson" | "text/event-stream" | "text/plain" | "application/octet-stream" };
}

const json = (status = 200) => ({ status, type: "application/json" as const });

/** Every route, keyed by the handler's name in service/api/routes.ts. */
export const ROUTES = {
  index: { scope: "open", method: "GET", path: `${API_PREFIX}`, summary: "The API's version and where its description is", ok: json() },
  openapi: { scope: "open", method: "GET", path: `${API_PREFIX}/openapi.json`, summary: "This API's OpenAPI 3.1 document", ok: json() },
  listGuests: { scope: "filtered", method: "GET", path: `${API_PREFIX}/guests`, summary: "Every guest with its state, its disk use and limit where a btrfs qgroup counts them, and when running its usage (vserver --list, vserver-stat --json)", ok: json() },
  buildGuest: { scope: "newGuest", method: "POST", path: `${API_PREFIX}/guests`, summary: "Build a guest (vserver NAME build); an asynchronous operation to poll", body: BuildBody, ok: json(202) },
  getGuest: { scope: "guest", method: "GET", path: `${API_PREFIX}/guests/{name}`, summary: "One guest's state, disk use and limit, and usage (vserver NAME status)", params: NameParams, ok: json() },
  deleteGuest: { scope: "guest", method: "DELETE", path: `${API_PREFIX}/guests/{name}`, summary: "Delete a guest: its root, config and logs (vserver NAME delete --force)", params: NameParams, query: DeleteQuery, ok: json() },
  startGuest: { scope: "guest", method: "POST", path: `${API_PREFIX}/guests/{name}/start`, summary: "Start a guest", params: NameParams, ok: json() },
  stopGuest: { scope: "guest", method: "POST", path: `${API_PREFIX}/guests/{name}/stop`, summary: "Stop a guest", params: NameParams, ok: json() },
  restartGuest: { scope: "guest", method: "POST", path: `${API_PREFIX}/guests/{name}/restart`, summary: "Stop a guest if it runs, then start it", params: NameParams, ok: json() },
  execInGuest: {
    scope: "guest", method: "POST", path: `${API_PREFIX}/guests/{name}/exec`, params: NameParams, body: ExecBody,
    summary: 'Run a command in a running guest; its output streams as JSON lines {"stdout": TEXT}, {"stderr": TEXT}, and last {"exit": STATUS}',
    ok: { status: 200, type: "application/x-ndjson" },
  },
  console: {
    scope: "guest", method: "GET", path: `${API_PREFIX}/guests/{name}/console`, params: NameParams,
    summary: 'A websocket to a root shell in the guest on a fresh pty (vserver NAME enter). First message {"cols","rows","token"?}, then {"input": TEXT} and {"resize": [COLS, ROWS]}; output comes as binary messages, then {"exit": STATUS}',
    ok: { status: 101, type: "application/octet-stream" },
  },
  getLimits: { scope: "guest", method: "GET", path: `${API_PREFIX}/guests/{name}/limits`, summary: "A running guest's limits (vlimit -a): memory in pages, CPU as shares, null for none", params: NameParams, ok: json() },
  setLimits: { scope: "guest", method: "PUT", path: `${API_PREFIX}/guests/{name}/limits`, summary: "Change a running guest's limits (vlimit), with save also in its config", params: NameParams, body: LimitsBody, ok: json() },
  getAttributes: { scope: "guest", method: "GET", path: `${API_PREFIX}/guests/{name}/attributes`, summary: "A running guest's bounding capabilities and context flags (vattribute --get)", params: NameParams, ok: json() },
  setAttributes: { scope: "guest", method: "PATCH", path: `${API_PREFIX}/guests/{name}/attributes`, summary: "Change capabilities and flags for the next start (vattribute --set)", params: NameParams, body: AttributesBody, ok: json() },
  guestLog: { scope: "guest", method: "GET", path: `${API_PREFIX}/guests/{name}/log`, summary: "The end of a guest's log", params: NameParams, query: LogQuery, ok: { status: 200, type: "text/plain" } },
  stat: { scope: "filtered", method: "GET", path: `${API_PREFIX}/stat`, summary: "One row per running context with usage (vserver-stat --json)", ok: json() },
  startVservers: { scope: "someGuests", method: "POST", path: `${API_PREFIX}/start-vservers`, summary: "Start or stop many guests in their apps/init/depends order (start-vservers); an asynchronous operation to poll", body: BootBody, ok: json(202) },
  hashifyGuest: {
    scope: "guest", method: "POST", path: `${API_PREFIX}/guests/{name}/hashify`, params: NameParams, ok: json(202),
    summary: "Move a stopped guest's files into the store all unified guests share (vhashify NAME, vunify NAME); an asynchronous operation to poll",
  },
  deunifyGuest: { scope: "guest", method: "POST", path: `${API_PREFIX}/guests/{name}/deunify`, params: NameParams, summary: "Give a stopped unified guest a plain tree again (vunify -R NAME); an asynchronous operation to poll", ok: json(202) },
  guestDiskUse: { scope: "guest", method: "GET", path: `${API_PREFIX}/guests/{name}/du`, params: NameParams, summary: "What a guest holds of its own and what it shares through the store (vdu NAME), in bytes", ok: json() },
  unifyGc: { scope: "host", method: "POST", path: `${API_PREFIX}/unify/gc`, summary: "Remove the store's objects no guest refers to (vhashify --gc); an asynchronous operation to poll", ok: json(202) },
  guestPackages: {
    scope: "guest", method: "POST", path: `${API_PREFIX}/guests/{name}/packages`, params: NameParams, body: PackagesBody, ok: json(202),
    summary: "Install or remove packages with the guest's own package tool, whichever it has (vserver NAME pkg); an asynchronous operation to poll",
  },
  packageTool: {
    scope: "someGuests", method: "POST", path: `${API_PREFIX}/packages`, body: PackageToolBody, ok: json(202),
    summary: "Run the guests' own apt-get, rpm or yum in each chosen running guest (vapt-get, vrpm, vyum); an asynchronous operation to poll",
  },
  listOperations: { scope: "filtered", method: "GET", path: `${API_PREFIX}/operations`, summary: "The asynchronous operations of this service run", ok: json() },
  getOperation: { scope: "filtered", method: "GET", path: `${API_PREFIX}/operations/{id}`, summary: "An asynchronous operation: its state, output so far, result or error; ?wait=S waits for its end", params: OperationParams, query: WaitQuery, ok: json() },
  events: { scope: "filtered", method: "GET", path: `${API_PREFIX}/events`, summary: "The journal's events; with follow=1 a live server-sent event stream", query: EventsQuery, ok: json() },
  metrics: { scope: "filtered", method: "GET", path: "/metrics", summary: "Prometheus text-format metrics: per-guest CPU, memory, processes, network, disk use and limit, starts, operation latencies", ok: { status: 200, type: "text/plain" } },
} satisfies Record<string, RouteDef>;

export type RouteName = keyof typeof ROUTES;

/** One sentence naming the field a request got wrong, from the first problem zod found. */
export function describeProblem(where: "path parameter" | "query parameter" | "body field" | "body", error: z.ZodError): string {
  const issue = error.issues[0]!;
  const field = issue.path.map(String).join(".");
  let msg = issue.message;
  if (issue.code === "unrecognized_keys") return `${where === "body field" ? "the body" : `the ${where}s`} ${issue.keys.length > 1 ? "have" : "has"} unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `'${k}'`).join(", ")}.`;
  if (issue.code === "invalid_type" && /received undefined/.test(msg)) msg = "is required";
  else if (!/^(must|is|needs|gives)\b/.test(msg)) msg = `is wrong: ${msg.charAt(0).toLowerCase()}${msg.slice(1)}`;
  if (!field) return `the ${where === "body field" ? "body" : where} ${msg}.`;
  return `${where} '${field}' ${msg}.`;
}

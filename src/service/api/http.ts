// The HTTP plumbing of the API: JSON answers, errors as one sentence with a status that says
// whose fault it is, and matching a request to its route with its input validated
// (pure/api/schema.ts).

import type { z } from "zod";
import { describeProblem, ROUTES, type RouteDef, type RouteName } from "../../pure/api/schema";

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body, null, 2) + "\n", { status, headers: { "content-type": "application/json", ...headers } });
}

export function problem(status: number, error: string, kind?: string): Response {
  return json(status, { error, ...(kind ? { kind } : {}) });
}

/** The status of an error of the control plane, by its class (src/errors.ts). */
export function statusOfKind(kind: string): number {
  switch (kind) {
    case "UsageError": return 400;
    case "ForbiddenError": return 403;
    case "NotFoundError": return 404;
    case "NotRunningError": case "AlreadyRunningError": case "BusyError": case "ConfigError": return 409;
    default: return 500;
  }
}

export class BadRequest extends Error {
  constructor(message: string, readonly status = 400) {
    super(message);
  }
}

export interface Matched {
  name: RouteName;
  def: RouteDef;
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
}

const compiled = (Object.entries(ROUTES) as Array<[RouteName, RouteDef]>).map(([name, def]) => {
  const keys: string[] = [];
  const re = new RegExp("^" + def.path.replace(/\{(\w+)\}/g, (_, k: string) => (keys.push(k), "([^/]+)")) + "/?$");
  return { name, def, keys, re };
});

function check<T>(schema: z.ZodType<T> | undefined, value: unknown, where: Parameters<typeof describeProblem>[0]): T {
  if (!schema) return value as T;
  const r = schema.safeParse(value);
  if (!r.success) throw new BadRequest(describeProblem(where, r.error));
  return r.data;
}

/** The route of a request with its validated input; a 404 or 405 as BadRequest when none fits. */
export async function match(req: Request): Promise<Matched> {
  const url = new URL(req.url);
  const hits = compiled.map((c) => ({ c, m: c.re.exec(url.pathname) })).filter((h) => h.m);
  if (!hits.length) throw new BadRequest(`there is no ${url.pathname} in this API; GET /v1/openapi.json lists what there is.`, 404);
  const hit = hits.find((h) => h.c.def.method === req.method);
  if (!hit) throw new BadRequest(`${url.pathname} takes ${hits.map((h) => h.c.def.method).join(", ")}, not ${req.method}.`, 405);
  const rawParams: Record<string, string> = {};
  hit.c.keys.forEach((k, i) => (rawParams[k] = decodeURIComponent(hit.m![i + 1]!)));
  const params = check(hit.c.def.params, rawParams, "path parameter") as Record<string, string>;
  const query = check(hit.c.def.query ?? undefinedOrEmpty(url), Object.fromEntries(url.searchParams), "query parameter") as Record<string, string>;
  let body: unknown;
  if (hit.c.def.body) {
    const text = await req.text();
    if (!text.trim()) throw new BadRequest("the body is missing: this request needs a JSON object.");
    try {
      body = JSON.parse(text);
    } catch {
      throw new BadRequest("the body is not valid JSON.");
    }
    body = check(hit.c.def.body, body, typeof body === "object" && body !== null && !Array.isArray(body) ? "body field" : "body");
  }
  return { name: hit.c.name, def: hit.c.def, params, query, body };
}

/** A route without query parameters refuses any. */
function undefinedOrEmpty(url: URL): z.ZodType | undefined {
  const first = [...url.searchParams.keys()][0];
  if (first !== undefined) throw new BadRequest(`query parameter '${first}' is not known here.`);
  return undefined;
}

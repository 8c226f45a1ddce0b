// The OpenAPI 3.1 document of the REST API, generated from the definitions that validate the
// requests (pure/api/schema.ts): a route or field added there appears here by itself.

import { z } from "zod";
import { ROUTES, type RouteDef } from "./schema";

const ERROR_RESPONSE = {
  description: "One sentence saying what was wrong",
  content: { "application/json": { schema: { type: "object", properties: { error: { type: "string" }, kind: { type: "string" } }, required: ["error"] } } },
};

function jsonSchema(s: z.ZodType, io: "input" | "output" = "input"): Record<string, unknown> {
  const out = z.toJSONSchema(s, { io, unrepresentable: "any" }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

function parameters(r: RouteDef): unknown[] {
  const out: unknown[] = [];
  const add = (obj: z.ZodType | undefined, where: "path" | "query") => {
    if (!obj) return;
    const js = jsonSchema(obj) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
    for (const [name, schema] of Object.entries(js.properties ?? {})) {
      const { description, ...rest } = schema;
      out.push({ name, in: where, required: where === "path" || (js.required ?? []).includes(name), schema: rest, ...(description ? { description } : {}) });
    }
  };
  add(r.params, "path");
  add(r.query, "query");
  return out;
}

export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [name, r] of Object.entries(ROUTES) as Array<[string, RouteDef]>) {
    const op: Record<string, unknown> = {
      operationId: name,
      summary: r.summary,
      parameters: parameters(r),
      // What a token limited to some guests may do here (docs/api.md, "Scopes").
      "x-vserver-scope": r.scope,
      responses: {
        [String(r.ok.status)]: { description: "Success", content: { [r.ok.type]: {} } },
        "400": ERROR_RESPONSE, "401": ERROR_RESPONSE, "403": ERROR_RESPONSE, "404": ERROR_RESPONSE, "409": ERROR_RESPONSE, "500": ERROR_RESPONSE,
      },
    };
    if (r.body) op.requestBody = { required: true, content: { "application/json": { schema: jsonSchema(r.body) } } };
    (paths[r.path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: "3.1.0",
    info: { title: "vserver host service", version, description: "The control plane of Linux-VServer-style guests: the same operations, checks, locks and journal as the commands." },
    paths,
  };
}

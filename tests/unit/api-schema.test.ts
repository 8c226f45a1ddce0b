// The API's request definitions, the OpenAPI document made from them, and the Prometheus text
// format: pure, without root.

import { describe, expect, test } from "bun:test";
import { BuildBody, ExecBody, LimitsBody, ROUTES, describeProblem } from "../../src/pure/api/schema";
import { openApiDocument } from "../../src/pure/api/openapi";
import { formatFamilies, histogramSamples, newHistogram, observe } from "../../src/pure/format/prometheus";
import { formatEventLine } from "../../src/pure/format/events";

const problemOf = (schema: { safeParse(v: unknown): any }, v: unknown) => {
  const r = schema.safeParse(v);
  expect(r.success).toBe(false);
  return describeProblem("body field", r.error);
};

describe("request problems name the field in one sentence", () => {
  test("missing, wrong type, unknown, custom", () => {
    expect(problemOf(BuildBody, { method: "busybox" })).toBe("body field 'name' is required.");
    expect(problemOf(BuildBody, { name: "a/b", method: "busybox" })).toMatch(/^body field 'name' must be a guest name/);
    expect(problemOf(BuildBody, { name: "a", method: "busybox", x: 1 })).toBe("the body has unknown field 'x'.");
    expect(problemOf(ExecBody, { argv: [] })).toBe("body field 'argv' must name a command: at least one word.");
    expect(problemOf(LimitsBody, { limits: { nproc: 1.5 } })).toBe(`body field 'limits.nproc' must be a whole number or "inf".`);
    expect(LimitsBody.safeParse({ limits: { nproc: "inf" } }).success).toBe(true);
  });
});

describe("the OpenAPI document", () => {
  const doc = openApiDocument("1") as any;
  test("has every route, once, with its method", () => {
    for (const r of Object.values(ROUTES)) expect(doc.paths[r.path][r.method.toLowerCase()]).toBeTruthy();
    const ops = Object.values(doc.paths).flatMap((p: any) => Object.values(p).map((o: any) => o.operationId));
    expect(new Set(ops).size).toBe(Object.keys(ROUTES).length);
  });
  test("bodies are the validating schemas", () => {
    const b = doc.paths["/v1/guests"].post.requestBody.content["application/json"].schema;
    expect(b.required).toEqual(["name", "method"]);
    expect(b.additionalProperties).toBe(false);
    expect(b.properties.name.pattern).toBeTruthy();
  });
});

describe("Prometheus text format", () => {
  test("help, type, escaped labels, special values", () => {
    const t = formatFamilies([{ name: "m", help: "a\\b\nc", type: "gauge", samples: [{ labels: { g: 'x"y\\z\n' }, value: Infinity }, { value: 1.5 }] }]);
    expect(t).toBe('# HELP m a\\\\b\\nc\n# TYPE m gauge\nm{g="x\\"y\\\\z\\n"} +Inf\nm 1.5\n');
  });
  test("histogram buckets are cumulative and end with +Inf = count", () => {
    const h = newHistogram();
    for (const s of [0.005, 0.2, 0.2, 100, 1000]) observe(h, s);
    const s = histogramSamples(h, { op: "start" });
    const bucket = (le: string) => s.find((x) => x.labels?.le === le)!.value;
    expect(bucket("0.01")).toBe(1);
    expect(bucket("0.25")).toBe(3);
    expect(bucket("300")).toBe(4);
    expect(bucket("+Inf")).toBe(5);
    expect(s.find((x) => x.suffix === "_count")!.value).toBe(5);
  });
});

test("an event line says what, whom, outcome and who asked", () => {
  const l = formatEventLine({ time: "T", op: "start", guest: "web", context: 42, ok: true, caller: { uid: 0, pid: 7 }, ms: 12 });
  expect(l).toBe("T start     web          ctx 42 ok (uid 0 pid 7) ms=12");
  expect(formatEventLine({ time: "T", op: "stop", ok: false, error: "busy.", caller: { uid: 0, via: "api" } })).toBe("T stop      -            FAILED: busy. (api)");
});

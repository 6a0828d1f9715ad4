import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { mappingsDir, SVC } from "./helpers.js";

const YAML = `
compositions:
  - get: /v1/overview/{s}
    calls:
      - { name: a, method: ${SVC}.EchoAll, request: { s: path.s } }
      - { name: b, method: ${SVC}.EchoGet, request: { s: a.s }, required: false }
      - { name: each, method: ${SVC}.EchoPath, forEach: a.rs, request: { s: item }, concurrency: 3 }
    output:
      - { key: a, from: a }
      - { key: names, from: a.rs, merge: concat }
      - { key: names, from: b.rs, merge: concat }
      - { key: each, from: each }
`;

let gw: RunningGateway;
beforeAll(async () => {
  gw = await startGateway({ backend: "127.0.0.1:1", mappings: mappingsDir(YAML) });
});
afterAll(() => gw.close());

describe("composite routes in the listings", () => {
  it("should list compositions with their calls in /_protogate/routes", async () => {
    const r = await gw.call("GET", "/_protogate/routes");
    expect((r.body as { compositions: unknown }).compositions).toEqual([
      {
        method: "GET",
        path: "/v1/overview/{s}",
        calls: [
          { name: "a", rpc: `${SVC}.EchoAll`, required: true, after: [] },
          { name: "b", rpc: `${SVC}.EchoGet`, required: false, after: ["a"] },
          {
            name: "each",
            rpc: `${SVC}.EchoPath`,
            required: true,
            after: ["a"],
            forEach: { maxItems: 100, concurrency: 3 },
          },
        ],
        output: ["a", "names", "each"],
      },
    ]);
  });

  it("should describe the composite answer and its partial form in OpenAPI", async () => {
    const doc = (await gw.call("GET", "/openapi.json")).body as {
      paths: Record<string, Record<string, { responses: Record<string, Record<string, unknown>> }>>;
    };
    const ok = doc.paths["/v1/overview/{s}"]!.get!.responses["200"] as {
      headers: Record<string, unknown>;
      content: { "application/json": { schema: { properties: Record<string, unknown> } } };
    };
    expect(ok.headers["Protogate-Partial"]).toBeDefined();
    const props = ok.content["application/json"].schema.properties;
    expect(Object.keys(props)).toEqual(["a", "names", "each", "errors"]);
    expect(props.a).toEqual({ $ref: "#/components/schemas/test.v1.Kitchen" });
    expect(props.each).toMatchObject({ type: "array" });
  });
});

// Composites that read the request body (`body.*` sources), each in its own gateway's OpenAPI document.
const BODY_YAML = `
compositions:
  - post: /v1/compose/body/order
    calls:
      - { name: a, method: ${SVC}.EchoAll, request: { s: body.x, i64: body.y.z } }
      - { name: b, method: ${SVC}.EchoGet, request: { ts: body.y.when } }
      - { name: f, method: ${SVC}.Fail, request: { reason: body.x } }
    output:
      - { key: a, from: a }
      - { key: b, from: b }
      - { key: f, from: f }
  - put: /v1/compose/body/each
    calls:
      - { name: each, method: ${SVC}.EchoPath, forEach: body.ids, request: { s: item } }
      - { name: n, method: ${SVC}.EchoAll, request: { i32: body.n } }
      - { name: m, method: ${SVC}.EchoGet, request: { s: body.n } }
    output:
      - { key: each, from: each }
      - { key: n, from: n }
      - { key: m, from: m }
  - get: /v1/compose/body/plain/{s}
    calls:
      - { name: a, method: ${SVC}.EchoAll, request: { s: path.s } }
    output:
      - { key: a, from: a }
  - get: /v1/compose/body/get-reads
    calls:
      - { name: a, method: ${SVC}.EchoAll, request: { s: body.x } }
    output:
      - { key: a, from: a }
`;

describe("a composite's request body in OpenAPI", () => {
  let bodies: RunningGateway;
  let doc: { paths: Record<string, Record<string, { requestBody?: unknown }>> };
  beforeAll(async () => {
    bodies = await startGateway({ backend: "127.0.0.1:1", mappings: mappingsDir(BODY_YAML) });
    doc = (await bodies.call("GET", "/openapi.json")).body as typeof doc;
  });
  afterAll(() => bodies?.close());

  it("should keep the document valid OpenAPI 3.1", async () => {
    const result = await new Validator().validate(doc as Parameters<Validator["validate"]>[0]);
    expect(result.errors ?? []).toEqual([]);
  });

  const object = (properties: Record<string, unknown>) => ({ type: "object", properties });
  const int64 = { type: "string", format: "int64", pattern: "^-?[0-9]+$" };
  it.each([
    [
      "the fields of the key paths it reads, nested (x is two string fields, one with a comment)",
      "/v1/compose/body/order",
      "post",
      object({
        x: { type: "string" },
        y: object({ z: int64, when: { $ref: "#/components/schemas/google.protobuf.Timestamp" } }),
      }),
    ],
    [
      "open leaves for a forEach list and a key read as two types",
      "/v1/compose/body/each",
      "put",
      object({ ids: {}, n: {} }),
    ],
    ["none without body sources", "/v1/compose/body/plain/{s}", "get", undefined],
    ["none on a GET, whose body is never read", "/v1/compose/body/get-reads", "get", undefined],
  ])("should describe %s", (_name, path, method, schema) => {
    const op = doc.paths[path]![method]!;
    if (schema === undefined) expect(op).not.toHaveProperty("requestBody");
    else expect(op.requestBody).toEqual({ content: { "application/json": { schema } } });
  });
});

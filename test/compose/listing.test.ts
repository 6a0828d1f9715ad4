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

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { type ScriptedServer, startScriptedServer } from "../helpers/scripted-server.js";
import { mappingsDir, SVC } from "./helpers.js";

// Every call of the composite goes to the scripted EchoService (each method echoes its request), which
// records when each call arrived, the deadline it carried and whether it was cancelled.
let backend: ScriptedServer;
let gw: RunningGateway;

const YAML = `
compositions:
  - get: /v1/compose/parallel/{s}
    calls:
      - { name: a, method: ${SVC}.EchoAll, request: { s: path.s } }
      - { name: b, method: ${SVC}.EchoGet, request: { s: path.s, i32: query.n } }
      - { name: c, method: ${SVC}.EchoPath, request: { s: path.s } }
    output:
      - { key: first, from: a }
      - { key: second, from: b.i32 }
      - { key: third, from: c.s }
  - get: /v1/compose/chain/{s}
    calls:
      - { name: later, method: ${SVC}.EchoGet, request: { s: first.s } }
      - { name: first, method: ${SVC}.EchoAll, request: { s: path.s, rs: query.id } }
      - name: each
        method: ${SVC}.EchoPath
        forEach: first.rs
        maxItems: 4
        concurrency: 2
        request: { s: item }
    output:
      - { key: later, from: later.s }
      - { key: items, from: each }
  - get: /v1/compose/failing
    timeout: 2s
    calls:
      - { name: must, method: ${SVC}.EchoAll }
      - { name: other, method: ${SVC}.EchoGet }
      - { name: maybe, method: ${SVC}.EchoPath, required: false, timeout: 300ms }
    output:
      - { key: must, from: must }
      - { key: other, from: other }
      - { key: maybe, from: maybe }
`;

beforeAll(async () => {
  backend = await startScriptedServer();
  gw = await startGateway({ backend: backend.address, mappings: mappingsDir(YAML) });
});
afterAll(async () => {
  await gw.close();
  await backend.close();
});
afterEach(() => {
  backend.calls.length = 0;
  backend.behave(() => ({ reply: "echo" }));
});

const arrival = (method: string) => backend.calls.filter((c) => c.method === method).map((c) => c.at);

describe("composite execution", () => {
  it("should start independent calls together and answer with the outputs in declared order", async () => {
    const delay: Record<string, number> = { EchoAll: 100, EchoGet: 200, EchoPath: 300 };
    backend.behave((m) => ({ reply: "echo", delayMs: delay[m] ?? 0 }));
    const r = await gw.call("GET", "/v1/compose/parallel/x?n=7");
    expect(r.status).toBe(200);
    expect(r.text).toBe('{"first":{"s":"x"},"second":7,"third":"x"}');
    // The backends' own clocks: all three arrived before the fastest (100 ms) answered.
    const at = backend.calls.map((c) => c.at);
    expect(Math.max(...at) - Math.min(...at)).toBeLessThan(100);
    expect(backend.calls).toHaveLength(3);
  });

  it("should start a dependent call after exactly its input, and fan forEach out in input order", async () => {
    backend.behave((m, n) => ({
      reply: "echo",
      delayMs: m === "EchoAll" ? 100 : m === "EchoPath" && n === 2 ? 150 : 20,
    }));
    const r = await gw.call("GET", "/v1/compose/chain/x?id=p&id=q&id=r");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ later: "x", items: [{ s: "p" }, { s: "q" }, { s: "r" }] });
    const first = arrival("EchoAll")[0]!;
    expect(arrival("EchoGet")[0]! - first).toBeGreaterThanOrEqual(100);
    // concurrency 2: the third element is sent only once one of the first two answered.
    const each = arrival("EchoPath");
    expect(each).toHaveLength(3);
    expect(each[2]! - each[0]!).toBeGreaterThanOrEqual(20);
  });

  it("should refuse more forEach elements than maxItems with 400", async () => {
    const r = await gw.call("GET", "/v1/compose/chain/x?id=1&id=2&id=3&id=4&id=5");
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 3, message: expect.stringContaining("at most 4") });
    expect(arrival("EchoPath")).toHaveLength(0);
  });

  it("should answer a required failure's status and cancel the calls in flight", async () => {
    backend.behave((m) => (m === "EchoAll" ? { code: 5, message: "no such thing" } : { hang: true }));
    const r = await gw.call("GET", "/v1/compose/failing");
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ code: 5, message: "no such thing", details: [] });
    await expect
      .poll(() => backend.calls.filter((c) => c.method !== "EchoAll").every((c) => c.cancelled))
      .toBe(true);
    expect(new Set(backend.calls.map((c) => c.method))).toEqual(new Set(["EchoAll", "EchoGet", "EchoPath"]));
  });

  it("should answer 200 with the parts that worked, an errors array and Protogate-Partial", async () => {
    backend.behave((m) => (m === "EchoPath" ? { code: 7, message: "not yours" } : { reply: "echo" }));
    const r = await gw.call("GET", "/v1/compose/failing");
    expect(r.status).toBe(200);
    expect(r.headers.get("protogate-partial")).toBe("true");
    expect(r.body).toEqual({
      must: {},
      other: {},
      errors: [{ call: "maybe", field: "maybe", code: 7, message: "not yours", details: [] }],
    });
  });

  it("should give each call min(own timeout, time left) as its grpc-timeout", async () => {
    const r = await gw.call("GET", "/v1/compose/failing", { headers: { "grpc-timeout": "1S" } });
    expect(r.status).toBe(200);
    const byMethod = Object.fromEntries(backend.calls.map((c) => [c.method, c.timeoutMs]));
    expect(byMethod.EchoPath).toBeLessThanOrEqual(300);
    expect(byMethod.EchoAll).toBeLessThanOrEqual(1000);
    expect(byMethod.EchoAll).toBeGreaterThan(300);
    // Without the header the composition's own 2 s bounds every call.
    backend.calls.length = 0;
    await gw.call("GET", "/v1/compose/failing");
    const all = backend.calls.find((c) => c.method === "EchoAll")!;
    expect(all.timeoutMs).toBeGreaterThan(1000);
    expect(all.timeoutMs).toBeLessThanOrEqual(2000);
  });

  it("should end an optional call at the deadline and answer partially", async () => {
    backend.behave((m) => (m === "EchoPath" ? { hang: true } : { reply: "echo" }));
    const r = await gw.call("GET", "/v1/compose/failing");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ errors: [{ call: "maybe", code: 4 }] });
  });

  it("should send every call the request's metadata and request id", async () => {
    const r = await gw.call("GET", "/v1/compose/parallel/x", { headers: { "grpc-metadata-tenant": "acme" } });
    expect(r.status).toBe(200);
    expect(backend.calls.map((c) => c.metadata.tenant)).toEqual(["acme", "acme", "acme"]);
    expect(new Set(backend.calls.map((c) => c.metadata["x-request-id"]))).toEqual(
      new Set([r.headers.get("x-request-id")]),
    );
  });
});

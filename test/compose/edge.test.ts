import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readAuthConfig } from "../../src/policies/auth/config.js";
import { readCorsConfig } from "../../src/policies/cors.js";
import { readRateLimitConfig } from "../../src/policies/rate-limit/config.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { type ScriptedServer, startScriptedServer } from "../helpers/scripted-server.js";
import { mappingsDir, SVC } from "./helpers.js";

// Composite routes behind the edge policies, with settings of their own in the mapping file (the keys
// of per-method settings): a real gateway, JWTs signed here, the scripted grpc-js EchoService recording
// the metadata and deadline of every call it receives. The gateway-wide default is public and has no
// rate limit, so whatever is refused below is refused by the composite's own settings.
const ISSUER = "https://issuer.compose.test";

const YAML = `
compositions:
  - get: /v1/compose/secure/{s}
    auth: { require: authenticated, scopes: { anyOf: [shelves:read] } }
    rateLimit: [{ name: overview, key: [subject], rate: 2, per: 1h }]
    corsOrigins: [https://admin.example.com]
    calls:
      - { name: a, method: ${SVC}.EchoAll, request: { s: path.s } }
      - { name: b, method: ${SVC}.EchoGet, request: { s: path.s } }
      - { name: c, method: ${SVC}.EchoPath, request: { s: path.s } }
    output:
      - { key: a, from: a.s }
      - { key: b, from: b.s }
      - { key: c, from: c.s }
  - post: /v1/compose/orders/{s}
    calls:
      - { name: order, method: ${SVC}.EchoAll, request: { s: path.s, i32: body.quantity, rs: body.tags, b: body.gift } }
      - { name: customer, method: ${SVC}.EchoNoVerb, request: { s: body.customer.name, i64: body.customer.id } }
    output:
      - { key: order, from: order }
      - { key: customer, from: customer }
  - get: /v1/compose/settings/{s}
    timeout: 1s
    maxTimeout: 1500ms
    json: { useProtoNames: true, emitUnpopulated: true }
    calls:
      - { name: a, method: ${SVC}.EchoAll, request: { s: path.s, json_named: path.s } }
    output:
      - { key: a, from: a.json_named }
      - { key: whole, from: a }
      - { key: n, from: a.i32 }
`;

let backend: ScriptedServer;
let gw: RunningGateway;
let sign: (claims: Record<string, unknown>) => Promise<string>;

beforeAll(async () => {
  const keys = await generateKeyPair("ES256");
  sign = (claims) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: "ES256" })
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(keys.privateKey);
  backend = await startScriptedServer();
  gw = await startGateway({
    backend: backend.address,
    mappings: mappingsDir(YAML),
    auth: readAuthConfig(
      {
        providers: [
          {
            issuer: ISSUER,
            keys: [{ pem: await exportSPKI(keys.publicKey) }],
            algorithms: ["ES256"],
            forwardClaims: { sub: "x-user-id", tenant: "x-tenant" },
          },
        ],
        default: "public",
      },
      "auth",
    ),
    rateLimit: readRateLimitConfig({ store: "memory" }, "rateLimit"),
    cors: readCorsConfig({ origins: ["https://app.example.com"] }, "cors"),
  });
});
afterAll(async () => {
  await gw?.close();
  await backend?.close();
});
afterEach(() => {
  backend.calls.length = 0;
});

const bearer = async (claims: Record<string, unknown>) => ({
  authorization: `Bearer ${await sign(claims)}`,
});

describe("a composite's own auth requirement", () => {
  it("should answer 401 without a token, before any call", async () => {
    const r = await gw.call("GET", "/v1/compose/secure/x");
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toBe('Bearer realm="protogate"');
    expect(r.body).toMatchObject({ code: 16 });
    expect(backend.calls).toHaveLength(0);
  });

  it("should answer 403 to a token without the scope, before any call", async () => {
    const r = await gw.call("GET", "/v1/compose/secure/x", {
      headers: await bearer({ sub: "u-403", scope: "books:read" }),
    });
    expect(r.status).toBe(403);
    expect(r.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    expect(r.body).toMatchObject({ code: 7, message: expect.stringContaining("shelves:read") });
    expect(backend.calls).toHaveLength(0);
  });

  it("should forward the token's claims to every call, as the method's own route does", async () => {
    const headers = {
      ...(await bearer({ sub: "u-1", tenant: "acme", scope: "shelves:read" })),
      // A client's copy of a forwarded claim key never reaches a backend.
      "grpc-metadata-x-user-id": "spoof",
    };
    const r = await gw.call("GET", "/v1/compose/secure/x", { headers });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ a: "x", b: "x", c: "x" });
    expect(backend.calls.map((c) => c.method).sort()).toEqual(["EchoAll", "EchoGet", "EchoPath"]);
    const forwarded = (m: Record<string, string>) => ({ user: m["x-user-id"], tenant: m["x-tenant"] });
    for (const c of backend.calls) expect(forwarded(c.metadata)).toEqual({ user: "u-1", tenant: "acme" });
    // The same token on EchoGet's own (unary) route: the same metadata keys and values.
    backend.calls.length = 0;
    expect((await gw.call("GET", "/v1/echo/x", { headers })).status).toBe(200);
    expect(forwarded(backend.calls[0]!.metadata)).toEqual({ user: "u-1", tenant: "acme" });
  });
});

describe("a composite's requirement in OpenAPI", () => {
  it("should give its operation the bearer scopes it demands, and none to a public composite", async () => {
    const doc = (await gw.call("GET", "/openapi.json")).body as {
      paths: Record<string, Record<string, { security?: unknown }>>;
    };
    expect(doc.paths["/v1/compose/secure/{s}"]!.get!.security).toEqual([{ bearerAuth: ["shelves:read"] }]);
    expect(doc.paths["/v1/compose/settings/{s}"]!.get).not.toHaveProperty("security");
  });
});

describe("a composite's own rate limit", () => {
  it("should count one request per composite answer, whatever its calls, then answer 429", async () => {
    const headers = await bearer({ sub: "u-rl", scope: "shelves:read" });
    const seen: Array<string | null> = [];
    for (let i = 0; i < 2; i++) {
      const r = await gw.call("GET", `/v1/compose/secure/${i}`, { headers });
      expect(r.status).toBe(200);
      seen.push(r.headers.get("ratelimit"));
    }
    expect(seen.map((h) => /r=(\d+)/.exec(h ?? "")?.[1])).toEqual(["1", "0"]);
    expect(backend.calls).toHaveLength(6);
    const over = await gw.call("GET", "/v1/compose/secure/2", { headers });
    expect(over.status).toBe(429);
    expect(over.body).toEqual({ code: 8, message: 'rate limit "overview" exceeded', details: [] });
    expect(over.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(backend.calls).toHaveLength(6);
    // The limit is the subject's: another caller still gets through.
    const other = await gw.call("GET", "/v1/compose/secure/3", {
      headers: await bearer({ sub: "u-other", scope: "shelves:read" }),
    });
    expect(other.status).toBe(200);
  });

  it("should leave composites without a limit of their own unlimited (the default here)", async () => {
    for (let i = 0; i < 4; i++) {
      const r = await gw.call("GET", "/v1/compose/settings/x");
      expect(r.status).toBe(200);
      expect(r.headers.get("ratelimit")).toBeNull();
    }
  });
});

describe("a composite's own CORS origins", () => {
  const preflight = (origin: string) =>
    gw.call("OPTIONS", "/v1/compose/secure/x", {
      headers: { origin, "access-control-request-method": "GET" },
    });

  it("should allow its own origins and not the gateway's", async () => {
    const ok = await preflight("https://admin.example.com");
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://admin.example.com");
    expect((await preflight("https://app.example.com")).status).toBe(403);
    expect(backend.calls).toHaveLength(0);
  });
});

describe("a composite's own timeout, maxTimeout and JSON options", () => {
  it("should bound the calls by its timeout, let Grpc-Timeout stretch it only to maxTimeout", async () => {
    expect((await gw.call("GET", "/v1/compose/settings/x")).status).toBe(200);
    expect(backend.calls[0]!.timeoutMs).toBeLessThanOrEqual(1000);
    expect(backend.calls[0]!.timeoutMs).toBeGreaterThan(500);
    backend.calls.length = 0;
    const r = await gw.call("GET", "/v1/compose/settings/x", { headers: { "grpc-timeout": "10S" } });
    expect(r.status).toBe(200);
    expect(backend.calls[0]!.timeoutMs).toBeLessThanOrEqual(1500);
    expect(backend.calls[0]!.timeoutMs).toBeGreaterThan(1000);
  });

  it("should render with its own JSON options (proto names, unpopulated fields)", async () => {
    const r = await gw.call("GET", "/v1/compose/settings/x");
    const body = r.body as Record<string, Record<string, unknown>>;
    expect(Object.keys(body)).toEqual(["a", "whole", "n"]);
    expect(body.a).toBe("x");
    // A field of the answer at its default is printed too, as for a proto route with these options.
    expect(body.n).toBe(0);
    expect(body.whole).toMatchObject({ json_named: "x", i64: "0", packed_i32: [], mss: {} });
    expect(body.whole).not.toHaveProperty("customName");
  });
});

describe("a POST composite reading the JSON body", () => {
  const post = (body: string) =>
    gw.call("POST", "/v1/compose/orders/o-1", { body, headers: { "content-type": "application/json" } });

  it("should fill each call's request from the body's scalars, lists and nested keys", async () => {
    const r = await post(
      JSON.stringify({ quantity: 3, tags: ["gift", "red"], gift: true, customer: { name: "Ann", id: "42" } }),
    );
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      order: { s: "o-1", i32: 3, rs: ["gift", "red"], b: true },
      customer: { s: "Ann", i64: "42" },
    });
    expect(backend.calls.map((c) => c.method).sort()).toEqual(["EchoAll", "EchoNoVerb"]);
  });

  it.each([
    ["a body that is not JSON", "{", /not JSON/],
    ["an object where a scalar is read", '{"customer":{"name":{"first":"Ann"}}}', /body\.customer\.name/],
    ["a value of the wrong type", '{"quantity":"three"}', /quantity/],
  ])("should answer 400 to %s", async (_name, body, message) => {
    const r = await post(body);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 3, message: expect.stringMatching(message) });
  });
});

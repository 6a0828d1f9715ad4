import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAuthConfig } from "../../src/policies/auth/config.js";
import { type EchoServer, startEchoServer } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

/**
 * JWT auth against a real JWKS endpoint (node:http on loopback) whose keys rotate during the test.
 */
const ISSUER = "https://issuer.test";
type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

let k1: KeyPair;
let k2: KeyPair;
let served: JWK[] = [];
let fetches = 0;
const jwks = createServer((_req, res) => {
  fetches++;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ keys: served }));
});
let backend: EchoServer;
let gw: RunningGateway;

async function publicJwk(pair: KeyPair, kid: string): Promise<JWK> {
  return { ...(await exportJWK(pair.publicKey)), kid, alg: "RS256", use: "sig" };
}

function sign(
  pair: KeyPair,
  kid: string,
  claims: JWTPayload = {},
  opts: { exp?: string | number; aud?: string; iss?: string } = {},
) {
  return new SignJWT({ sub: "user-1", email: "ann@example.com", ...claims })
    .setProtectedHeader({ alg: "RS256", kid })
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? "api")
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? "5m")
    .sign(pair.privateKey);
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

beforeAll(async () => {
  k1 = await generateKeyPair("RS256");
  k2 = await generateKeyPair("RS256");
  served = [await publicJwk(k1, "k1")];
  await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", r));
  backend = await startEchoServer();
  gw = await startGateway({
    backend: backend.address,
    auth: readAuthConfig(
      {
        providers: [
          {
            issuer: ISSUER,
            audiences: ["api"],
            jwksUri: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
            algorithms: ["RS256", "ES256"],
            clockSkew: "5s",
            jwksCacheMaxAge: "400ms",
            jwksCooldown: "50ms",
            from: [{ header: "authorization", prefix: "Bearer " }, { cookie: "session" }],
            forwardClaims: { sub: "x-user-id", email: "x-user-email" },
          },
        ],
        default: "authenticated",
      },
      "auth",
    ),
    methodSettings: {
      "test.v1.EchoService.EchoPrioLiteral": { auth: { require: "public" } },
      "test.v1.EchoService.EchoVerb": {
        auth: { require: "authenticated", scopes: { anyOf: ["books:write", "admin"] } },
      },
      "test.v1.EchoService.EchoResponseBody": {
        auth: { require: "authenticated", claims: { tenant: ["acme"] } },
      },
    },
  });
});
afterAll(async () => {
  await gw?.close();
  await backend?.close();
  jwks.close();
});

describe("authentication", () => {
  it("should answer 401 with a Bearer challenge when the token is missing", async () => {
    const res = await gw.call("GET", "/v1/metadata");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="protogate"');
    expect(res.body).toEqual({
      code: 16,
      message: "unauthenticated: this route needs a bearer token",
      details: [],
    });
  });

  it("should pass a valid token and forward its claims (never the client's copies of them)", async () => {
    const res = await gw.call("GET", "/v1/metadata", {
      headers: {
        ...bearer(await sign(k1, "k1")),
        "grpc-metadata-x-user-id": "admin",
        "x-request-id": "req-42",
      },
    });
    expect(res.status).toBe(200);
    const received = (res.body as { received: Record<string, string> }).received;
    expect(received).toMatchObject({
      "x-user-id": "user-1",
      "x-user-email": "ann@example.com",
      "x-request-id": "req-42",
    });
    expect(res.headers.get("x-request-id")).toBe("req-42");
  });

  it("should drop a spoofed claim header even on a public route without a token", async () => {
    await gw.call("GET", "/v1/prio/special", { headers: { "grpc-metadata-x-user-id": "admin" } });
    expect(backend.last().metadata).not.toHaveProperty("x-user-id");
  });

  it("should read the token from a configured cookie", async () => {
    const res = await gw.call("GET", "/v1/metadata", {
      headers: { cookie: `theme=dark; session=${await sign(k1, "k1")}` },
    });
    expect(res.status).toBe(200);
  });

  const bad: Array<[string, () => Promise<string>, RegExp]> = [
    ["expired", () => sign(k1, "k1", {}, { exp: Math.floor(Date.now() / 1000) - 60 }), /expired/],
    ["not yet valid", () => sign(k1, "k1", { nbf: Math.floor(Date.now() / 1000) + 600 }), /nbf/],
    ["for another audience", () => sign(k1, "k1", {}, { aud: "other" }), /aud/],
    [
      "from an unknown issuer",
      () => sign(k1, "k1", {}, { iss: "https://evil.test" }),
      /issuer is not trusted/,
    ],
    [
      "tampered",
      async () => {
        const [h, , s] = (await sign(k1, "k1")).split(".");
        return `${h}.${b64({ sub: "admin", iss: ISSUER, aud: "api", exp: 9999999999 })}.${s}`;
      },
      /signature/,
    ],
    [
      "unsigned (alg: none)",
      async () => `${b64({ alg: "none" })}.${b64({ sub: "x", iss: ISSUER, aud: "api", exp: 9999999999 })}.`,
      /algorithm|not valid/,
    ],
    [
      "HS256 signed with the public key (key confusion)",
      async () => {
        const secret = new TextEncoder().encode(await exportSPKI(k1.publicKey));
        return new SignJWT({ sub: "x" })
          .setProtectedHeader({ alg: "HS256", kid: "k1" })
          .setIssuer(ISSUER)
          .setAudience("api")
          .setExpirationTime("5m")
          .sign(secret);
      },
      /algorithm/,
    ],
    ["signed by an unknown key", () => generateKeyPair("RS256").then((p) => sign(p, "k9")), /no key matches/],
    ["not a JWT", async () => "hello", /not a JWT/],
  ];
  it.each(bad)("should answer 401 invalid_token for a token %s", async (_name, make, reason) => {
    const res = await gw.call("GET", "/v1/metadata", { headers: bearer(await make()) });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(
      /^Bearer realm="protogate", error="invalid_token", error_description="/,
    );
    expect((res.body as { code: number; message: string }).code).toBe(16);
    expect((res.body as { message: string }).message).toMatch(reason);
  });
});

describe("requirements from the (protogate.v1.auth) proto option", () => {
  it("should make a method public", async () => {
    expect((await gw.call("GET", "/v1/prio/other")).status).toBe(200);
  });

  it.each([
    [{ scope: "books:read", tenant: "acme" }, 403],
    [{ scope: "admin", tenant: "beta" }, 403],
    [{ scope: "admin", tenant: "acme" }, 200],
  ])("should demand its scopes and claims: %j -> %i", async (claims, status) => {
    const res = await gw.call("POST", "/v1/body/x", {
      body: "[]",
      headers: bearer(await sign(k1, "k1", claims)),
    });
    expect(res.status).toBe(status);
  });
});

describe("authorization", () => {
  it("should let anyone call a public route, with or without a good token", async () => {
    expect((await gw.call("GET", "/v1/prio/special")).status).toBe(200);
    expect((await gw.call("GET", "/v1/prio/special", { headers: bearer("garbage") })).status).toBe(200);
  });

  it.each([
    ["books:read", 403],
    ["books:read books:write", 200],
    ["admin", 200],
  ])("scope %j -> %i", async (scope, status) => {
    const res = await gw.call("POST", "/v1/things/x:frob", {
      headers: bearer(await sign(k1, "k1", { scope })),
    });
    expect(res.status).toBe(status);
    if (status === 403) {
      expect(res.headers.get("www-authenticate")).toBe(
        'Bearer realm="protogate", error="insufficient_scope", scope="books:write admin"',
      );
      expect(res.body).toMatchObject({ code: 7 });
    }
  });

  it("should read scopes from an scp list too", async () => {
    const res = await gw.call("POST", "/v1/things/x:frob", {
      headers: bearer(await sign(k1, "k1", { scp: ["admin"] })),
    });
    expect(res.status).toBe(200);
  });

  it.each([
    [{ tenant: "acme" }, 200],
    [{ tenant: ["beta", "acme"] }, 200],
    [{ tenant: "beta" }, 403],
    [{}, 403],
  ])("claims %j -> %i", async (claims, status) => {
    const res = await gw.call("GET", "/v1/rs/x", { headers: bearer(await sign(k1, "k1", claims)) });
    expect(res.status).toBe(status);
  });
});

describe("key rotation", () => {
  it("should accept a new kid without a restart, and refuse the old key once it is gone", async () => {
    const old = await sign(k1, "k1");
    expect((await gw.call("GET", "/v1/metadata", { headers: bearer(old) })).status).toBe(200);
    served = [await publicJwk(k2, "k2")]; // the provider rotates
    const before = fetches;
    const fresh = await sign(k2, "k2");
    await expect
      .poll(async () => (await gw.call("GET", "/v1/metadata", { headers: bearer(fresh) })).status, {
        timeout: 3000,
      })
      .toBe(200);
    expect(fetches).toBeGreaterThan(before); // the unknown kid made it fetch the keys again
    await expect
      .poll(async () => (await gw.call("GET", "/v1/metadata", { headers: bearer(old) })).status, {
        timeout: 3000,
      })
      .toBe(401);
  });
});

describe("request ids", () => {
  it("should generate one when none or a bad one is given", async () => {
    for (const given of [undefined, "has spaces and \u00e9"]) {
      const res = await gw.call("GET", "/v1/prio/special", {
        headers: given ? { "x-request-id": given } : {},
      });
      expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(backend.last().metadata["x-request-id"]).toEqual([res.headers.get("x-request-id")]);
    }
  });
});

describe("static keys", () => {
  it("should verify tokens against a PEM public key from the config, and a token from a custom header", async () => {
    const pem = await exportSPKI(k2.publicKey);
    const g = await startGateway({
      backend: backend.address,
      auth: readAuthConfig(
        {
          providers: [
            {
              issuer: "https://static.test",
              audiences: ["api"],
              keys: [{ pem }],
              algorithms: ["RS256"],
              from: [{ header: "x-token" }],
            },
          ],
          default: "authenticated",
        },
        "auth",
      ),
    });
    try {
      const token = await sign(k2, "any", {}, { iss: "https://static.test" });
      expect((await g.call("GET", "/v1/echo/x", { headers: { "x-token": token } })).status).toBe(200);
      expect((await g.call("GET", "/v1/echo/x", { headers: bearer(token) })).status).toBe(401); // not where it is read from
      const other = await sign(k1, "any", {}, { iss: "https://static.test" });
      expect((await g.call("GET", "/v1/echo/x", { headers: { "x-token": other } })).status).toBe(401);
    } finally {
      await g.close();
    }
  });
});

describe("auth configuration", () => {
  const base = { issuer: ISSUER, jwksUri: "http://127.0.0.1:1/jwks" };
  it.each([
    [{ providers: [{ ...base, algorithms: ["none"] }] }, /"none" is not allowed/],
    [{ providers: [{ ...base, algorithms: ["HS256"] }] }, /"HS256" is not allowed/],
    [{ providers: [{ ...base, keys: [{ pem: "x" }] }] }, /either jwksUri or keys/],
    [{ providers: [{ jwksUri: base.jwksUri }] }, /needs an issuer/],
    [{ providers: [{ ...base, forwardClaims: { sub: "Grpc-Bad" } }] }, /metadata key/],
    [{ default: { require: "public", scopes: { anyOf: ["a"] } } }, /need require: authenticated/],
    [{ providers: [], extra: 1 }, /auth\.extra: unknown key/],
  ])("should reject %j", (config, message) => {
    expect(() => readAuthConfig(config, "auth")).toThrow(message);
  });
});

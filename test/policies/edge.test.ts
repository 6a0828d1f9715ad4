import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCorsConfig } from "../../src/policies/cors.js";
import { readIpFilterConfig } from "../../src/policies/ip-filter.js";
import { type EchoServer, startEchoServer } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

let backend: EchoServer;
beforeAll(async () => {
  backend = await startEchoServer();
});
afterAll(async () => {
  await backend?.close();
});

describe("CORS", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway({
      backend: backend.address,
      cors: readCorsConfig(
        { origins: ["https://app.example.com", "https://*.partner.test"], maxAge: "5m" },
        "cors",
      ),
      methodSettings: { "test.v1.EchoService.EchoVerb": { corsOrigins: ["https://admin.example.com"] } },
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  const preflight = (path: string, origin: string, method: string, headers = "") =>
    gw.call("OPTIONS", path, {
      headers: {
        origin,
        "access-control-request-method": method,
        ...(headers ? { "access-control-request-headers": headers } : {}),
      },
    });

  it("should answer a preflight at the gateway, without calling the backend", async () => {
    const calls = backend.calls.length;
    const res = await preflight(
      "/v1/echo/x",
      "https://app.example.com",
      "GET",
      "Authorization, Grpc-Metadata-Tenant",
    );
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(res.headers.get("access-control-allow-methods")).toBe("GET");
    expect(res.headers.get("access-control-allow-headers")).toBe("authorization, grpc-metadata-tenant");
    expect(res.headers.get("access-control-max-age")).toBe("300");
    expect(res.headers.get("vary")).toBe("Origin");
    expect(backend.calls.length).toBe(calls);
  });

  it.each([
    ["an origin not listed", "/v1/echo/x", "https://evil.test", "GET", "", 403],
    ["a subdomain of a wildcard origin", "/v1/echo/x", "https://eu.partner.test", "GET", "", 204],
    ["the wildcard's bare domain", "/v1/echo/x", "https://partner.test", "GET", "", 403],
    ["a header not allowed", "/v1/echo/x", "https://app.example.com", "GET", "x-evil", 403],
    ["a route that does not exist", "/v2/nothing", "https://app.example.com", "GET", "", 404],
    [
      "a route with its own origins (not this one)",
      "/v1/things/a:frob",
      "https://app.example.com",
      "POST",
      "",
      403,
    ],
    [
      "a route with its own origins (this one)",
      "/v1/things/a:frob",
      "https://admin.example.com",
      "POST",
      "",
      204,
    ],
  ])("preflight from %s", async (_name, path, origin, method, headers, status) => {
    const res = await preflight(path, origin, method, headers);
    expect(res.status).toBe(status);
    if (status !== 204) {
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect(res.headers.get("content-type")).toMatch(/application\/json/);
    }
  });

  it("should add CORS headers to actual requests from allowed origins only", async () => {
    const ok = await gw.call("GET", "/v1/echo/x", { headers: { origin: "https://app.example.com" } });
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(ok.headers.get("access-control-expose-headers")).toContain("x-request-id");
    const evil = await gw.call("GET", "/v1/echo/x", { headers: { origin: "https://evil.test" } });
    expect(evil.status).toBe(200);
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("should refuse credentials with a * origin at load", () => {
    expect(() => readCorsConfig({ origins: ["*"], credentials: true }, "cors")).toThrow(
      /cannot go with origin "\*"/,
    );
    expect(() => readCorsConfig({ origins: ["app.example.com"] }, "cors")).toThrow(/is not an origin/);
  });
});

describe("IP allow and deny lists", () => {
  it.each([
    [{ deny: ["127.0.0.1"] }, {}, 403],
    [{ allow: ["10.0.0.0/8"] }, {}, 403],
    [{ allow: ["127.0.0.0/8"] }, {}, 200],
    [{ allow: ["127.0.0.0/8"], deny: ["127.0.0.1"] }, {}, 403],
  ])("%j from 127.0.0.1 -> %i", async (filter, _h, status) => {
    const gw = await startGateway({
      backend: backend.address,
      ipFilter: readIpFilterConfig(filter, "ipFilter"),
    });
    try {
      const res = await gw.call("GET", "/v1/echo/x");
      expect(res.status).toBe(status);
      if (status === 403)
        expect(res.body).toEqual({
          code: 7,
          message: "permission denied: client address not allowed",
          details: [],
        });
      expect((await gw.call("GET", "/_protogate/status")).status).toBe(status); // admin routes too
    } finally {
      await gw.close();
    }
  });

  it("should use X-Forwarded-For only when trustProxy is set", async () => {
    const filter = readIpFilterConfig({ allow: ["10.0.0.0/8"] }, "ipFilter");
    const trusting = await startGateway({ backend: backend.address, ipFilter: filter, trustProxy: true });
    const plain = await startGateway({ backend: backend.address, ipFilter: filter });
    try {
      const headers = { "x-forwarded-for": "10.1.2.3" };
      expect((await trusting.call("GET", "/v1/echo/x", { headers })).status).toBe(200);
      expect((await plain.call("GET", "/v1/echo/x", { headers })).status).toBe(403);
    } finally {
      await trusting.close();
      await plain.close();
    }
  });

  it("should reject bad entries at load", () => {
    expect(() => readIpFilterConfig({ allow: ["10.0.0/8"] }, "ipFilter")).toThrow(
      /not an address or CIDR range/,
    );
  });
});

describe("header size limit", () => {
  it("should answer 431 as a google.rpc.Status for a request head over the limit", async () => {
    const gw = await startGateway({ backend: backend.address, maxHeaderSize: 1024 });
    try {
      const url = new URL(gw.url);
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          { host: url.hostname, port: url.port, path: "/v1/echo/x", headers: { "x-big": "a".repeat(2000) } },
          (r) => {
            let body = "";
            r.on("data", (c) => (body += c));
            r.on("end", () => resolve({ status: r.statusCode ?? 0, body }));
          },
        );
        req.on("error", reject);
        req.end();
      });
      expect(res.status).toBe(431);
      expect(JSON.parse(res.body)).toEqual({
        code: 8,
        message: "request headers are larger than the configured limit",
        details: [],
      });
      expect((await gw.call("GET", "/v1/echo/x")).status).toBe(200);
    } finally {
      await gw.close();
    }
  });
});

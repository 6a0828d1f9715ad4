import { request } from "node:http";
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { scriptedGateway } from "./fixture.js";

const GET = "test.v1.EchoService.EchoGet";

describe("response cache: hits, keys, validators", () => {
  const f = scriptedGateway({
    methodSettings: {
      [GET]: { cache: { ttlMs: 60_000, vary: ["accept-language"], errorTtlMs: 60_000 } },
      "test.v1.EchoService.EchoResponseBody": { cache: { ttlMs: 60_000 } },
    },
  });

  it("answers the second request from the cache: one backend call, Cache-Status and Age", async () => {
    const a = await f.gw.call("GET", "/v1/echo/hit-1?i32=5");
    const b = await f.gw.call("GET", "/v1/echo/hit-1?i32=5");
    expect(f.backend.calls).toHaveLength(1);
    expect(a.body).toEqual(b.body);
    expect(a.headers.get("cache-status")).toMatch(/^protogate; fwd=miss; fwd-status=200; stored; key="/);
    expect(b.headers.get("cache-status")).toMatch(
      /^protogate; hit; ttl=\d+; key="test\.v1\.EchoService\.EchoGet:/,
    );
    expect(b.headers.get("age")).toMatch(/^\d+$/);
    expect(a.headers.get("age")).toBeNull();
  });

  it.each([
    ["query order", "/v1/echo/k1?i32=1&rs=a&rs=b&u32=2", "/v1/echo/k1?u32=2&i32=1&rs=a&rs=b"],
    ["proto vs JSON names", "/v1/echo/k2?json_named=x", "/v1/echo/k2?customName=x"],
    ["map entry order", "/v1/echo/k3?mss[a]=1&mss[b]=2", "/v1/echo/k3?mss[b]=2&mss[a]=1"],
    ["int map entry order", "/v1/echo/k4?mi[2].name=x&mi[1].name=y", "/v1/echo/k4?mi[1].name=y&mi[2].name=x"],
    ["path vs default", "/v1/echo/k5?i32=0", "/v1/echo/k5"],
  ])("equivalent requests share an entry: %s", async (_name, first, second) => {
    await f.gw.call("GET", first);
    const b = await f.gw.call("GET", second);
    expect(b.status).toBe(200);
    expect(f.backend.calls).toHaveLength(1);
    expect(b.headers.get("cache-status")).toMatch(/; hit;/);
  });

  it.each([
    ["another field value", "/v1/echo/d1?i32=1", "/v1/echo/d1?i32=2"],
    ["another path", "/v1/echo/d2a", "/v1/echo/d2b"],
    ["repeated order (it is data)", "/v1/echo/d3?rs=a&rs=b", "/v1/echo/d3?rs=b&rs=a"],
  ])("different requests do not: %s", async (_name, first, second) => {
    await f.gw.call("GET", first);
    await f.gw.call("GET", second);
    expect(f.backend.calls).toHaveLength(2);
  });

  it("keys on declared Vary headers", async () => {
    const en = { "accept-language": "en" };
    await f.gw.call("GET", "/v1/echo/vary", { headers: en });
    await f.gw.call("GET", "/v1/echo/vary", { headers: { "accept-language": "fr" } });
    await f.gw.call("GET", "/v1/echo/vary", { headers: en });
    expect(f.backend.calls).toHaveLength(2);
  });

  it("keeps bindings with another response_body apart", async () => {
    const whole = await f.gw.call("GET", "/v1/rs/x");
    const inner = await f.gw.call("GET", "/v1/rs/x/inner");
    expect(f.backend.calls).toHaveLength(2);
    expect(whole.body).not.toEqual(inner.body);
  });

  it("takes freshness from the backend's cache-control: max-age=0 is not reused, no-store not stored", async () => {
    f.backend.behave(() => ({ reply: "echo", metadata: { "cache-control": "max-age=0" } }));
    await f.gw.call("GET", "/v1/echo/maxage0");
    const b = await f.gw.call("GET", "/v1/echo/maxage0");
    expect(f.backend.calls).toHaveLength(2);
    expect(b.headers.get("cache-status")).toMatch(/fwd=miss/);
    f.backend.behave(() => ({ reply: "echo", metadata: { "cache-control": "no-store" } }));
    const c = await f.gw.call("GET", "/v1/echo/nostore");
    await f.gw.call("GET", "/v1/echo/nostore");
    expect(f.backend.calls).toHaveLength(4);
    expect(c.headers.get("cache-status")).not.toMatch(/stored/);
  });

  it("never stores answers with set-cookie metadata", async () => {
    f.backend.behave(() => ({ reply: "echo", metadata: { "set-cookie": "sid=1" } }));
    await f.gw.call("GET", "/v1/echo/cookie");
    await f.gw.call("GET", "/v1/echo/cookie");
    expect(f.backend.calls).toHaveLength(2);
  });

  it("a request with Cache-Control: no-cache goes to the backend and refreshes the entry", async () => {
    await f.gw.call("GET", "/v1/echo/reload");
    const b = await f.gw.call("GET", "/v1/echo/reload", { headers: { "cache-control": "no-cache" } });
    expect(f.backend.calls).toHaveLength(2);
    expect(b.headers.get("cache-status")).toMatch(/^protogate; fwd=request; fwd-status=200; stored/);
  });

  it("stores errors only as configured: a NOT_FOUND with errorTtl, never an INTERNAL", async () => {
    f.backend.behave(() => ({ code: grpc.status.NOT_FOUND, message: "no such thing" }));
    const a = await f.gw.call("GET", "/v1/echo/missing");
    const b = await f.gw.call("GET", "/v1/echo/missing");
    expect([a.status, b.status]).toEqual([404, 404]);
    expect(b.body).toEqual(a.body);
    expect(f.backend.calls).toHaveLength(1);
    expect(b.headers.get("cache-status")).toMatch(/; hit;/);
    f.backend.behave(() => ({ code: grpc.status.INTERNAL }));
    await f.gw.call("GET", "/v1/echo/broken");
    const d = await f.gw.call("GET", "/v1/echo/broken");
    expect(f.backend.calls).toHaveLength(3);
    expect(d.headers.get("cache-status")).toMatch(/^protogate; fwd=miss; fwd-status=500; key=/);
  });

  // fetch() adds Cache-Control: no-cache to conditional requests (Fetch spec, cache mode): plain http
  // here, with the Accept-Language fetch sends (the route varies on it).
  const conditional = (path: string, inm: string) =>
    new Promise<{ status: number; headers: Record<string, unknown>; text: string }>((resolve, reject) => {
      const req = request(
        f.gw.url + path,
        { headers: { "if-none-match": inm, "accept-language": "*" } },
        (res) => {
          let text = "";
          res.on("data", (c: Buffer) => {
            text += c.toString();
          });
          res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, text }));
        },
      );
      req.on("error", reject);
      req.end();
    });

  it("gives a strong ETag and answers If-None-Match with 304, on a miss as on a hit", async () => {
    const a = await f.gw.call("GET", "/v1/echo/etag");
    const tag = a.headers.get("etag")!;
    expect(tag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    const hit = await conditional("/v1/echo/etag", `"nope", W/${tag}`);
    expect(hit.status).toBe(304);
    expect(hit.text).toBe("");
    expect(hit.headers.etag).toBe(tag);
    expect(hit.headers["cache-status"]).toMatch(/; hit;/);
    expect(f.backend.calls).toHaveLength(1);
    const other = await conditional("/v1/echo/etag2", tag);
    expect(other.status).toBe(200);
    const cold = await conditional("/v1/echo/etag3", "*");
    expect(cold.status).toBe(304);
    expect(cold.headers["cache-status"]).toMatch(/fwd=miss/);
    expect(f.backend.calls).toHaveLength(3);
  });

  it("leaves routes without cache settings alone: no Cache-Status, every call reaches the backend", async () => {
    await f.gw.call("GET", "/v1/shelves/1/books/2");
    const b = await f.gw.call("GET", "/v1/shelves/1/books/2");
    expect(f.backend.calls).toHaveLength(2);
    expect(b.headers.get("cache-status")).toBeNull();
    expect(b.headers.get("etag")).toBeNull();
  });

  it("shows its counters in /_protogate/status", async () => {
    const s = (await f.gw.call("GET", "/_protogate/status")).body as {
      interceptors: { cache: { hits: number } };
    };
    expect(s.interceptors.cache.hits).toBeGreaterThan(0);
  });
});

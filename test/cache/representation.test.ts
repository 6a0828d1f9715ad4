import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { GatewayOptions } from "../../src/config/options.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { type ScriptedServer, startScriptedServer } from "../helpers/scripted-server.js";
import { skipUnless } from "../helpers/services.js";

const GET = "test.v1.EchoService.EchoGet";
const REDIS = "redis://127.0.0.1:6379";

const options = (backend: string, prefix: string): Partial<GatewayOptions> & { backend: string } => ({
  backend,
  cache: {
    store: "redis",
    redis: { url: REDIS, keyPrefix: prefix },
    maxBytes: 1 << 20,
    maxEntryBytes: 1 << 16,
    hitsCountForRateLimit: true,
  },
  methodSettings: { [GET]: { cache: { ttlMs: 60_000 } } },
});

const status = (r: { headers: Headers }) => r.headers.get("cache-status") ?? "";

describe("cache: a hit writes the answer rendered when it was stored", async () => {
  const skip = await skipUnless("redis", 6379);
  const prefix = `test:cache-repr:${randomUUID()}:`;
  let backend: ScriptedServer;
  let a: RunningGateway;
  let b: RunningGateway;
  let redis: Redis;
  beforeAll(async () => {
    if (skip) return;
    backend = await startScriptedServer();
    a = await startGateway(options(backend.address, prefix));
    b = await startGateway(options(backend.address, prefix));
    redis = new Redis(REDIS);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await backend?.close();
    if (!redis) return;
    const keys = await redis.keys(`${prefix}*`); // only this run's keys
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });
  beforeEach(() => {
    if (skip) return;
    backend.calls.length = 0;
    backend.behave(() => ({ reply: "echo" }));
  });

  it.skipIf(skip)("serves the stored bytes and ETag as they are: no render, no hash per hit", async () => {
    const miss = await a.call("GET", "/v1/echo/stored-bytes?i32=7");
    expect(status(miss)).toMatch(/fwd=miss; fwd-status=200; stored/);
    const key = /key="([^"]+)"/.exec(status(miss))![1]!;
    // The shared entry holds the rendered answer. Change it to bytes and a tag that no render of the
    // stored message could give: instance B, whose memory is empty, must serve exactly those.
    const stored = JSON.parse((await redis.get(`${prefix}e:${key}`))!) as {
      result: { message: string; rendered: { contentType: string; bytes: string; etag: string } };
    };
    expect(Buffer.from(stored.result.rendered.bytes, "base64").toString()).toBe(miss.text);
    expect(stored.result.rendered.etag).toBe(miss.headers.get("etag"));
    expect(stored.result.message).toBeDefined(); // still there, for compositions
    const planted = '{"planted":"not a render of the message"}';
    stored.result.rendered.bytes = Buffer.from(planted).toString("base64");
    stored.result.rendered.etag = '"planted-etag-000000000"';
    await redis.set(`${prefix}e:${key}`, JSON.stringify(stored), "KEEPTTL");

    const hit = await b.call("GET", "/v1/echo/stored-bytes?i32=7");
    expect(status(hit)).toMatch(/; hit;/);
    expect(hit.text).toBe(planted);
    expect(hit.headers.get("etag")).toBe('"planted-etag-000000000"');
    expect(hit.headers.get("content-type")).toBe(miss.headers.get("content-type"));
    const again = await b.call("GET", "/v1/echo/stored-bytes?i32=7", {
      headers: { "if-none-match": '"planted-etag-000000000"', "cache-control": "max-age=60" },
    });
    expect(again.status).toBe(304);
    expect(backend.calls).toHaveLength(1);
  });

  it.skipIf(skip)("gives a miss and its hits the same bytes, Content-Type and ETag", async () => {
    const miss = await a.call("GET", "/v1/echo/same?rs=a&rs=b");
    const hits = [
      await a.call("GET", "/v1/echo/same?rs=a&rs=b"),
      await b.call("GET", "/v1/echo/same?rs=a&rs=b"),
    ];
    for (const hit of hits) {
      expect(status(hit)).toMatch(/; hit;/);
      expect(hit.text).toBe(miss.text);
      expect(hit.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(hit.headers.get("content-type")).toBe(miss.headers.get("content-type"));
      expect(hit.headers.get("etag")).toBe(miss.headers.get("etag"));
    }
    expect(backend.calls).toHaveLength(1);
  });
});

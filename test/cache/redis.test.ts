import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { request } from "node:http";
import { createServer } from "node:net";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { GatewayOptions } from "../../src/config/options.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { type ScriptedServer, startScriptedServer } from "../helpers/scripted-server.js";

const GET = "test.v1.EchoService.EchoGet";
const REDIS = "redis://127.0.0.1:6379";

/** Options of a gateway caching EchoGet in the shared Redis under `prefix` (unique per test run). */
function options(
  backend: string,
  prefix: string,
  policy: Record<string, unknown> = {},
): Partial<GatewayOptions> & { backend: string } {
  return {
    backend,
    cache: {
      store: "redis",
      redis: { url: REDIS, keyPrefix: prefix },
      maxBytes: 1 << 20,
      maxEntryBytes: 1 << 16,
      hitsCountForRateLimit: true,
    },
    methodSettings: { [GET]: { cache: { ttlMs: 60_000, tags: ["echo"], lockTimeoutMs: 5_000, ...policy } } },
  };
}

const status = (r: { headers: Headers }) => r.headers.get("cache-status") ?? "";

describe("cache: two instances on one Redis", () => {
  const prefix = `test:cache:${randomUUID()}:`;
  let backend: ScriptedServer;
  let a: RunningGateway;
  let b: RunningGateway;
  let redis: Redis;
  beforeAll(async () => {
    backend = await startScriptedServer();
    a = await startGateway(options(backend.address, prefix));
    b = await startGateway(options(backend.address, prefix));
    redis = new Redis(REDIS);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await backend.close();
    // Only this run's keys are deleted: the Redis is shared with other programs.
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });
  beforeEach(() => {
    backend.calls.length = 0;
    backend.behave(() => ({ reply: "echo" }));
  });

  it("serves on one instance what the other stored", async () => {
    const first = await a.call("GET", "/v1/echo/shared");
    const second = await b.call("GET", "/v1/echo/shared");
    expect(backend.calls).toHaveLength(1);
    expect(second.body).toEqual(first.body);
    expect(status(second)).toMatch(/; hit;/);
    expect(second.headers.get("etag")).toBe(first.headers.get("etag"));
  });

  // The background refresh reads the call's metadata after the stale answer went out (it waits for the
  // Redis lock first): by then a `connection: close` client's socket, and its address, are gone.
  it("refreshes in the background with the metadata of the request, after its client has gone", async () => {
    backend.behave(() => ({
      reply: "echo",
      metadata: { "cache-control": "max-age=0, stale-while-revalidate=60" },
    }));
    const get = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const r = request(`${a.url}/v1/echo/swr-forwarded`, { headers: { connection: "close" } }, (res) => {
          res.resume();
          res.on("end", () => resolve(String(res.headers["cache-status"])));
        });
        r.on("error", reject);
        r.end();
      });
    await get();
    expect(await get()).toMatch(/detail=stale-while-revalidate/);
    await vi.waitFor(() => expect(backend.calls).toHaveLength(2));
    for (const call of backend.calls) expect(call.metadata["x-forwarded-for"]).toMatch(/127\.0\.0\.1/);
  });

  it("makes one backend call for 100 concurrent misses spread over both instances", async () => {
    backend.behave(() => ({ reply: "echo", delayMs: 200 }));
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).call("GET", "/v1/echo/stampede")),
    );
    expect(backend.calls).toHaveLength(1);
    expect(new Set(replies.map((r) => r.status))).toEqual(new Set([200]));
    expect(new Set(replies.map((r) => r.text)).size).toBe(1);
  });

  it.each([
    ["route", () => ({ route: GET })],
    ["tag", () => ({ tag: "echo" })],
    ["key", (key: string) => ({ key })],
  ])("purges by %s on every instance within a second", async (_name, selector) => {
    const path = `/v1/echo/purge-${_name}`;
    const stored = await a.call("GET", path);
    await b.call("GET", path); // now in B's memory too
    const key = /key="([^"]+)"/.exec(status(stored))![1]!;
    const res = await fetch(`${a.url}/_protogate/cache/purge`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(selector(key)),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { purged: number }).purged).toBeGreaterThanOrEqual(1);
    await vi.waitFor(
      async () => {
        backend.calls.length = 0;
        const r = await b.call("GET", path, { headers: { "x-probe": "1" } });
        expect(status(r)).toMatch(/fwd=miss/);
      },
      { timeout: 1000, interval: 50 },
    );
  });

  it("refuses a purge that names nothing", async () => {
    const res = await fetch(`${a.url}/_protogate/cache/purge`, { method: "POST", body: "{}" });
    expect(res.status).toBe(400);
  });
});

/** A free TCP port on loopback. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A private redis-server, stopped by its PID (never the shared one). */
function startRedis(port: number): ChildProcess {
  return spawn("redis-server", ["--port", String(port), "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
}

describe("cache: Redis killed mid-test", () => {
  let server: ChildProcess;
  let port: number;
  let backend: ScriptedServer;
  let gw: RunningGateway;
  beforeAll(async () => {
    port = await freePort();
    server = startRedis(port);
    const probe = new Redis(port, "127.0.0.1", { lazyConnect: true, retryStrategy: () => 50 });
    probe.on("error", () => undefined); // refused until the server is up
    await vi.waitFor(() => probe.ping(), { timeout: 5000, interval: 50 });
    probe.disconnect();
    backend = await startScriptedServer();
    const o = options(backend.address, "killed:");
    gw = await startGateway({
      ...o,
      cache: { ...o.cache!, redis: { url: `redis://127.0.0.1:${port}`, keyPrefix: "killed:" } },
    });
  });
  afterAll(async () => {
    await gw.close();
    await backend.close();
    if (server.exitCode === null) server.kill("SIGKILL");
  });

  it("bypasses the shared tier, counts and keeps answering; uses it again when Redis is back", async () => {
    await gw.call("GET", "/v1/echo/before");
    expect(status(await gw.call("GET", "/v1/echo/before"))).toMatch(/; hit;/);
    server.kill("SIGKILL");
    await new Promise((r) => server.once("exit", r));
    backend.calls.length = 0;
    // A hit from memory still works; new keys go to the backend; nothing fails.
    expect((await gw.call("GET", "/v1/echo/before")).status).toBe(200);
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) => gw.call("GET", `/v1/echo/during-${i}`)),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(backend.calls).toHaveLength(10);
    const s = (await gw.call("GET", "/_protogate/status")).body as {
      interceptors: { cache: { storeFailures: number } };
    };
    expect(s.interceptors.cache.storeFailures).toBeGreaterThan(0);

    server = startRedis(port);
    const probe = new Redis(port, "127.0.0.1", { retryStrategy: () => 50 });
    probe.on("error", () => undefined);
    try {
      await vi.waitFor(
        async () => {
          await gw.call("GET", `/v1/echo/after-${Date.now()}`);
          expect((await probe.keys("killed:e:*")).length).toBeGreaterThan(0);
        },
        { timeout: 5000, interval: 100 },
      );
    } finally {
      probe.disconnect();
    }
  });
});

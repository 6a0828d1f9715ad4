import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { GatewayOptions } from "../../src/config/options.js";
import { readRateLimitConfig } from "../../src/policies/rate-limit/config.js";
import { mappingsDir } from "../compose/helpers.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { type ScriptedServer, startScriptedServer } from "../helpers/scripted-server.js";
import { skipUnless } from "../helpers/services.js";

const LIMIT = 3;
const REDIS = "redis://127.0.0.1:6379";

/**
 * A gateway caching every route (GET answers, and the POST binding EchoVerb, which it may not cache),
 * with a limit of LIMIT requests a minute per API key, in memory or in Redis.
 */
function options(
  backend: string,
  hitsCountForRateLimit: boolean,
  redisPrefix?: string,
): Partial<GatewayOptions> & { backend: string } {
  return {
    backend,
    cache: { store: "memory", maxBytes: 1 << 20, maxEntryBytes: 1 << 16, hitsCountForRateLimit },
    routeDefaults: { cache: { ttlMs: 60_000 } },
    rateLimit: readRateLimitConfig(
      {
        ...(redisPrefix ? { store: "redis", redis: { url: REDIS, keyPrefix: redisPrefix } } : {}),
        default: [{ name: "per-key", key: ["apiKey"], rate: LIMIT, per: "1m" }],
      },
      "rateLimit",
    ),
  };
}

const as = (key: string) => ({ headers: { "x-api-key": key } });
const status = (r: { headers: Headers }) => r.headers.get("cache-status") ?? "";

let backend: ScriptedServer;
beforeAll(async () => {
  backend = await startScriptedServer();
});
afterAll(async () => {
  await backend?.close();
});
beforeEach(() => {
  backend.calls.length = 0;
  backend.behave(() => ({ reply: "echo" }));
});

/** The cases of hitsCountForRateLimit: false, against a gateway `gw()` whose limits live in memory or Redis. */
function hitsAreFree(gw: () => RunningGateway, key: (name: string) => string): void {
  it(`serves ${LIMIT + 10} hits past the limit, never counting them`, async () => {
    const first = await gw().call("GET", "/v1/echo/free-hits", as(key("a")));
    expect(first.status).toBe(200);
    for (let i = 0; i < LIMIT + 10; i++) {
      const hit = await gw().call("GET", "/v1/echo/free-hits", as(key("a")));
      expect([hit.status, status(hit)]).toEqual([200, expect.stringMatching(/; hit;/)]);
      expect(hit.headers.get("ratelimit")).toBeNull(); // nothing was taken
    }
    expect(backend.calls).toHaveLength(1);
    // The one miss took one: LIMIT - 1 misses are left.
    for (let i = 1; i < LIMIT; i++)
      expect((await gw().call("GET", `/v1/echo/free-after-${i}`, as(key("a")))).status).toBe(200);
    expect((await gw().call("GET", "/v1/echo/free-after-x", as(key("a")))).status).toBe(429);
  });

  it("still limits misses, and a limited client still gets hits", async () => {
    for (let i = 0; i < LIMIT; i++) {
      const miss = await gw().call("GET", `/v1/echo/miss-${i}`, as(key("b")));
      expect([miss.status, status(miss)]).toEqual([200, expect.stringMatching(/fwd=miss/)]);
      expect(miss.headers.get("ratelimit")).toMatch(new RegExp(`^"per-key";r=${LIMIT - 1 - i};t=\\d+$`));
    }
    const over = await gw().call("GET", "/v1/echo/miss-over", as(key("b")));
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ code: 8, message: 'rate limit "per-key" exceeded' });
    expect(over.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(status(over)).toMatch(/^protogate; fwd=miss; detail=rate-limited; key="/);
    expect(backend.calls).toHaveLength(LIMIT); // the refused miss never went upstream
    const hit = await gw().call("GET", "/v1/echo/miss-0", as(key("b")));
    expect([hit.status, status(hit)]).toEqual([200, expect.stringMatching(/; hit;/)]);
    // Another client's allowance is its own.
    expect((await gw().call("GET", "/v1/echo/miss-over", as(key("c")))).status).toBe(200);
  });

  it("limits a request that asks past the cache (no-cache) like a miss", async () => {
    const init = { headers: { "x-api-key": key("d"), "cache-control": "no-cache" } };
    for (let i = 0; i < LIMIT; i++)
      expect((await gw().call("GET", "/v1/echo/reload", init)).status).toBe(200);
    expect((await gw().call("GET", "/v1/echo/reload", init)).status).toBe(429);
    expect(backend.calls).toHaveLength(LIMIT);
  });

  it("limits every call of a caching route the cache does not serve (a POST binding)", async () => {
    for (let i = 0; i < LIMIT; i++)
      expect((await gw().call("POST", "/v1/things/p:frob", as(key("e")))).status).toBe(200);
    const over = await gw().call("POST", "/v1/things/p:frob", as(key("e")));
    expect(over.status).toBe(429);
    expect(backend.calls).toHaveLength(LIMIT);
  });

  it("does not let a limited client's concurrent misses through by joining another's fill", async () => {
    backend.behave(() => ({ reply: "echo", delayMs: 200 }));
    const replies = await Promise.all(
      Array.from({ length: LIMIT + 5 }, () => gw().call("GET", "/v1/echo/stampede", as(key("f")))),
    );
    const codes = replies.map((r) => r.status).sort();
    expect(codes.filter((c) => c === 200)).toHaveLength(LIMIT);
    expect(codes.filter((c) => c === 429)).toHaveLength(5);
    expect(backend.calls).toHaveLength(1);
  });
}

describe("cache hits and rate limits: hitsCountForRateLimit false, memory store", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway(options(backend.address, false));
  });
  afterAll(async () => {
    await gw?.close();
  });
  hitsAreFree(
    () => gw,
    (name) => `mem-${name}`,
  );
});

describe("cache hits and rate limits: hitsCountForRateLimit false, Redis store", async () => {
  const skip = await skipUnless("redis", 6379);
  const prefix = `test:cache-rl:${randomUUID()}:`;
  let gw: RunningGateway;
  beforeAll(async () => {
    if (skip) return;
    gw = await startGateway(options(backend.address, false, prefix));
    // Until its connection is up the store fails open (no RateLimit header): wait for a counted request.
    for (let i = 0; i < 50; i++) {
      const r = await gw.call("GET", `/v1/echo/warm-${i}`, as(`warm-${i}`));
      if (r.headers.get("ratelimit")) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  afterAll(async () => {
    await gw?.close();
    if (skip) return;
    // Only this run's buckets are deleted: the Redis is shared with other programs.
    const redis = new Redis(REDIS);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });
  if (!skip)
    hitsAreFree(
      () => gw,
      (name) => `redis-${name}`,
    );
  else it.skip("needs Redis", () => undefined); // reason: outside CI only, skipUnless printed how to start Redis (with CI=true it throws)
});

describe("cache hits and rate limits: hitsCountForRateLimit true (the default)", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway(options(backend.address, true));
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("counts hits: the request past the limit is refused at the edge, hit or not", async () => {
    for (let i = 0; i < LIMIT; i++) {
      const r = await gw.call("GET", "/v1/echo/counted", as("t"));
      expect(r.status).toBe(200);
      expect(r.headers.get("ratelimit")).toMatch(new RegExp(`^"per-key";r=${LIMIT - 1 - i};`));
    }
    expect(backend.calls).toHaveLength(1);
    const over = await gw.call("GET", "/v1/echo/counted", as("t"));
    expect(over.status).toBe(429);
    expect(status(over)).toBe(""); // refused before the cache
  });
});

describe("cache hits and rate limits: a composition is never a hit", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway({
      ...options(backend.address, false),
      mappings: mappingsDir(`
compositions:
  - get: /v1/compose/rl/{s}
    calls:
      - { name: a, method: test.v1.EchoService.EchoGet, request: { s: path.s } }
    output:
      - { key: a, from: a }
`),
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("decides the deferred rate limit before running the composition, whatever its calls' cache says", async () => {
    for (let i = 0; i < LIMIT; i++) {
      const r = await gw.call("GET", "/v1/compose/rl/x", as("g"));
      expect(r.status).toBe(200);
      expect(r.headers.get("ratelimit")).toMatch(new RegExp(`^"per-key";r=${LIMIT - 1 - i};`));
    }
    expect(backend.calls).toHaveLength(1); // its call was cached after the first
    const over = await gw.call("GET", "/v1/compose/rl/x", as("g"));
    expect(over.status).toBe(429);
  });
});

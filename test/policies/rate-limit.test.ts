import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLimits, readRateLimitConfig } from "../../src/policies/rate-limit/config.js";
import { type EchoServer, startEchoServer, TEST_PROTOS } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { run } from "../helpers/process.js";
import { reachable, skipUnless } from "../helpers/services.js";

let backend: EchoServer;
beforeAll(async () => {
  backend = await startEchoServer();
});
afterAll(async () => {
  await backend?.close();
});

describe("rate limiting, memory store", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway({
      backend: backend.address,
      rateLimit: readRateLimitConfig(
        { store: "memory", default: [{ name: "per-key", key: ["apiKey"], rate: 3, per: "1m" }] },
        "rateLimit",
      ),
      methodSettings: {
        "test.v1.EchoService.EchoPrioLiteral": { rateLimit: [] },
        "test.v1.EchoService.EchoVerb": {
          rateLimit: readLimits([{ name: "route", key: ["route"], rate: 1, per: "1h" }], "x"),
        },
      },
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("should count per key, answer 429 past the limit, and send the IETF headers", async () => {
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await gw.call("GET", "/v1/echo/x", { headers: { "x-api-key": "A" } });
      expect(res.status).toBe(200);
      expect(res.headers.get("ratelimit-policy")).toBe('"per-key";q=3;w=60');
      remaining.push(res.headers.get("ratelimit")!);
    }
    expect(remaining.map((r) => /r=(\d+)/.exec(r)![1])).toEqual(["2", "1", "0"]);
    const over = await gw.call("GET", "/v1/echo/x", { headers: { "x-api-key": "A" } });
    expect(over.status).toBe(429);
    expect(over.body).toEqual({ code: 8, message: 'rate limit "per-key" exceeded', details: [] });
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThanOrEqual(19); // one request per 20 s
    expect(over.headers.get("ratelimit")).toMatch(/^"per-key";r=0;t=\d+$/);
    expect((await gw.call("GET", "/v1/echo/x", { headers: { "x-api-key": "B" } })).status).toBe(200);
  });

  it("should apply a method's own limits, and none where it says so", async () => {
    for (let i = 0; i < 10; i++) expect((await gw.call("GET", "/v1/prio/special")).status).toBe(200);
    expect((await gw.call("POST", "/v1/things/a:frob", { headers: { "x-api-key": "C" } })).status).toBe(200);
    expect((await gw.call("POST", "/v1/things/b:frob", { headers: { "x-api-key": "D" } })).status).toBe(429); // per route, whoever calls
  });
});

describe("rate limiting config", () => {
  it.each([
    [{ store: "disk" }, /expected "memory" or "redis"/],
    [{ default: [{ rate: 0 }] }, /rate: expected a whole number/],
    [{ default: [{ rate: 5, key: ["cookie"] }] }, /key: expected parts of ip, subject, apiKey, route/],
    [{ default: [{ rate: 5, per: "soon" }] }, /per: expected a duration/],
    [{ onStoreFailure: "maybe" }, /expected "open" or "closed"/],
  ])("should reject %j", (config, message) => {
    expect(() => readRateLimitConfig(config, "rateLimit")).toThrow(message);
  });
});

describe("rate limiting shared through Redis", async () => {
  const skip = await skipUnless("redis", 6379);

  it.skipIf(skip)("should hold two gateway processes to one combined limit", async () => {
    const dir = mkdtempSync(join(tmpdir(), "protogate-rl-"));
    const prefix = `protogate:test:${randomUUID()}:`;
    const config = (name: string) => {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(
        file,
        [
          "server: { port: 0 }",
          `protos: [${JSON.stringify(TEST_PROTOS)}]`,
          `backends: { default: ${JSON.stringify(backend.address)} }`,
          "logLevel: warn",
          "rateLimit:",
          "  store: redis",
          `  redis: { url: "redis://127.0.0.1:6379", keyPrefix: "${prefix}" }`,
          "  default: [{ name: shared, key: [route], rate: 20, per: 1s, burst: 10 }]",
        ].join("\n"),
      );
      return file;
    };
    const a = run("node", ["bin/protogate.js", "serve", "--config", config("a"), "--no-watch"]);
    const b = run("node", ["bin/protogate.js", "serve", "--config", config("b"), "--no-watch"]);
    try {
      const urls = [await a.url, await b.url];
      let accepted = 0;
      let refused = 0;
      const started = Date.now();
      const durationMs = 2000;
      // 4 clients per gateway, as fast as they can, for 2 s
      await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          while (Date.now() - started < durationMs) {
            const res = await fetch(`${urls[i % 2]}/v1/echo/x`);
            await res.arrayBuffer();
            if (res.status === 200) accepted++;
            else if (res.status === 429) refused++;
            else throw new Error(`unexpected ${res.status}`);
          }
        }),
      );
      const elapsed = (Date.now() - started) / 1000;
      const allowed = 10 + 20 * elapsed; // the burst, then the rate
      expect(refused).toBeGreaterThan(0);
      expect(accepted).toBeGreaterThanOrEqual(Math.floor(allowed * 0.85));
      expect(accepted).toBeLessThanOrEqual(Math.ceil(allowed * 1.1) + 1);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

/** A private redis-server on a free port, so that stopping it does not disturb anything else. */
async function privateRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  for (let i = 0; i < 50 && !(await reachable(port)); i++) await new Promise((r) => setTimeout(r, 100));
  return child;
}
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe("rate limiting when Redis goes away", async () => {
  const skip = !(await reachable(6379)) && process.env.CI !== "true"; // same machine, same redis-server binary

  it.skipIf(skip)("should fail open or closed as configured, count the failures, and recover", async () => {
    const port = await freePort();
    let redis = await privateRedis(port);
    const limits = (mode: "open" | "closed") =>
      readRateLimitConfig(
        {
          store: "redis",
          redis: { url: `redis://127.0.0.1:${port}`, timeout: "200ms" },
          onStoreFailure: mode,
          default: [{ key: ["ip"], rate: 1000, per: "1s" }],
        },
        "rateLimit",
      );
    const open = await startGateway({ backend: backend.address, rateLimit: limits("open") });
    const closed = await startGateway({ backend: backend.address, rateLimit: limits("closed") });
    try {
      expect((await open.call("GET", "/v1/echo/x")).status).toBe(200);
      expect((await closed.call("GET", "/v1/echo/x")).status).toBe(200);

      redis.kill("SIGKILL");
      await new Promise((r) => redis.once("exit", r));

      expect((await open.call("GET", "/v1/echo/x")).status).toBe(200);
      const refused = await closed.call("GET", "/v1/echo/x");
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ code: 14, message: "rate limit store unavailable" });
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(open.gateway.status().rateLimitStoreFailures).toBeGreaterThan(0);

      redis = await privateRedis(port);
      await expect
        .poll(async () => (await closed.call("GET", "/v1/echo/x")).status, { timeout: 5000 })
        .toBe(200);
    } finally {
      await open.close();
      await closed.close();
      redis.kill("SIGKILL");
    }
  });
});

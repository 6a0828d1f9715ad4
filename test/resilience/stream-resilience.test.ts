import { afterEach, describe, expect, it } from "vitest";
import type { GatewayOptions } from "../../src/config/options.js";
import { readCircuitBreaker } from "../../src/interceptors/circuit-breaker/config.js";
import type { Gateway } from "../../src/server/gateway.js";
import { type FlakyServer, flakyGateway, openLive, startFlakyServer } from "../streaming/flaky-server.js";
import { raw } from "../streaming/http.js";

// Streams through the retry and circuit-breaker interceptors (wrapStream), against a real grpc-js
// backend whose next calls fail on demand: a server stream is retried only before its first message.

const UNAVAILABLE = 14;
const FAST_RETRY = { retry: { attempts: 3, initialBackoffMs: 5, maxBackoffMs: 20 } };
const ev = (seq: number, name: string) => `{"seq":${seq},"name":"${name}"}`;

let backend: FlakyServer;
let gateway: Gateway | undefined;
let url: string;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
  await backend?.close();
});

async function start(options: Partial<GatewayOptions>): Promise<void> {
  backend = await startFlakyServer();
  ({ gateway, url } = await flakyGateway(backend.address, options));
}

const previousAttempts = () => backend.calls.map((c) => c.metadata["grpc-previous-rpc-attempts"]);

describe("retry of streams", () => {
  it("retries a server stream that failed UNAVAILABLE before its first message, telling the backend", async () => {
    await start({ routeDefaults: FAST_RETRY });
    backend.failNext(1, { code: UNAVAILABLE, afterMessages: 0 });
    const res = await raw(url, "GET", "/v1/watch/r?count=2");
    expect(res.status).toBe(200);
    expect(res.text).toBe(`${ev(1, "r")}\n${ev(2, "r")}\n{"end":{"trailers":{}}}\n`);
    expect(previousAttempts()).toEqual([undefined, "1"]);
  });

  it("never retries once the first message went to the client: the error record ends the stream", async () => {
    await start({ routeDefaults: FAST_RETRY });
    backend.failNext(1, { code: UNAVAILABLE, afterMessages: 1 });
    const res = await raw(url, "GET", "/v1/watch/m?count=2");
    expect(res.status).toBe(200);
    expect(res.text).toBe(`${ev(1, "m")}\n{"error":{"code":14,"message":"failed after 1","details":[]}}\n`);
    expect(backend.calls).toHaveLength(1);
  });

  it("stops after the configured attempts with a normal error answer", async () => {
    await start({ routeDefaults: FAST_RETRY });
    backend.failNext(3, { code: UNAVAILABLE, afterMessages: 0 });
    const res = await raw(url, "GET", "/v1/watch/a?count=2");
    expect(res.status).toBe(503);
    expect(JSON.parse(res.text)).toMatchObject({ code: UNAVAILABLE, message: "failed after 0" });
    expect(previousAttempts()).toEqual([undefined, "1", "2"]);
  });

  it("retries only within the backend's retry budget", async () => {
    await start({ routeDefaults: FAST_RETRY, retryBudget: { percent: 0, minRetries: 0 } });
    backend.failNext(1, { code: UNAVAILABLE, afterMessages: 0 });
    expect((await raw(url, "GET", "/v1/watch/b?count=1")).status).toBe(503);
    expect(backend.calls).toHaveLength(1);
  });

  it("never retries a bidi stream, even of a method declared idempotent", async () => {
    await start({
      routeDefaults: FAST_RETRY,
      methodSettings: { "streamtest.v1.Streams.Chat": { idempotent: true } },
    });
    backend.failNext(1, { code: UNAVAILABLE, afterMessages: 0 });
    const res = await raw(
      url,
      "POST",
      "/v1/chat",
      { "content-type": "application/x-ndjson" },
      '{"name":"a"}\n',
    );
    expect(res.status).toBe(503);
    expect(backend.calls).toHaveLength(1);
  });
});

describe("circuit breaker and streams", () => {
  const NO_RETRY = { retry: { attempts: 1 } };
  const breakerOf = async () => {
    const status = (await raw(url, "GET", "/_protogate/status")).text;
    return (
      JSON.parse(status) as {
        interceptors: { circuitBreaker: Record<string, { state: string; inFlight: number }> };
      }
    ).interceptors.circuitBreaker[backend.address];
  };

  it("counts an open stream in the in-flight limit until it ends", async () => {
    await start({ routeDefaults: NO_RETRY, circuitBreaker: readCircuitBreaker({ maxRequests: 1 }, "cb") });
    const long = openLive(url, "/v1/watch/long?forever=true&gap_ms=20");
    await long.until("\n"); // the stream is open and sending
    expect((await breakerOf())?.inFlight).toBe(1);
    const refused = await raw(url, "GET", "/v1/watch/second?count=1");
    expect(refused.status).toBe(503);
    expect(refused.headers["retry-after"]).toBe("1");
    expect(backend.calls).toHaveLength(1); // the refused stream never reached the backend
    long.destroy();
    await expect.poll(async () => (await breakerOf())?.inFlight).toBe(0);
    expect((await raw(url, "GET", "/v1/watch/third?count=1")).status).toBe(200);
  });

  it("opens on failed streams as on failed unary calls", async () => {
    await start({
      routeDefaults: NO_RETRY,
      circuitBreaker: readCircuitBreaker({ consecutiveFailures: 2, openFor: "10s" }, "cb"),
    });
    backend.failNext(1, { code: UNAVAILABLE, afterMessages: 0 });
    backend.failNext(1, { code: UNAVAILABLE, afterMessages: 1 }); // after a message: still a failure
    expect((await raw(url, "GET", "/v1/watch/f1?count=1")).status).toBe(503);
    expect((await raw(url, "GET", "/v1/watch/f2?count=1")).text).toContain('"error"');
    expect((await breakerOf())?.state).toBe("open");
    const refused = await raw(url, "GET", "/v1/watch/f3?count=1");
    expect(refused.status).toBe(503);
    expect(backend.calls).toHaveLength(2);
  });
});

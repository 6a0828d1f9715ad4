import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import {
  DEFAULT_CIRCUIT_BREAKER,
  readCircuitBreaker,
} from "../../src/interceptors/circuit-breaker/config.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { type ScriptedServer, startScriptedServer } from "../helpers/scripted-server.js";

const NO_RETRY = { retry: { attempts: 1 } };
let backend: ScriptedServer;
let gw: RunningGateway;
afterEach(async () => {
  await gw?.close();
  await backend?.close();
});

async function start(breaker: Record<string, unknown>, settings: Record<string, unknown> = NO_RETRY) {
  backend = await startScriptedServer();
  gw = await startGateway({
    backend: backend.address,
    routeDefaults: settings,
    circuitBreaker: readCircuitBreaker(breaker, "circuitBreaker"),
  });
}

const breakerOf = async () =>
  (
    (await gw.call("GET", "/_protogate/status")).body as {
      interceptors: { circuitBreaker: Record<string, { state: string }> };
    }
  ).interceptors.circuitBreaker[backend.address];

describe("circuit breaker", () => {
  it("opens after consecutive server failures, fails fast with Retry-After, half-opens and closes", async () => {
    await start({ consecutiveFailures: 3, openFor: "400ms" });
    backend.behave(() => ({ code: grpc.status.UNAVAILABLE }));
    for (let i = 0; i < 3; i++) expect((await gw.call("GET", "/v1/echo/a")).status).toBe(503);
    expect((await breakerOf())?.state).toBe("open");
    const refused = await gw.call("GET", "/v1/echo/a");
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect((refused.body as { code: number }).code).toBe(14);
    expect(backend.calls).toHaveLength(3); // the refused call never reached the backend

    await new Promise((r) => setTimeout(r, 450));
    backend.behave(() => ({ reply: "echo" }));
    expect((await gw.call("GET", "/v1/echo/a")).status).toBe(200); // the probe
    expect((await breakerOf())?.state).toBe("closed");
    expect((await gw.call("GET", "/v1/echo/a")).status).toBe(200);
  });

  it("opens again when the half-open probe fails", async () => {
    await start({ consecutiveFailures: 2, openFor: "200ms" });
    backend.behave(() => ({ code: grpc.status.INTERNAL }));
    await gw.call("GET", "/v1/echo/a");
    await gw.call("GET", "/v1/echo/a");
    await new Promise((r) => setTimeout(r, 250));
    expect((await gw.call("GET", "/v1/echo/a")).status).toBe(500); // the probe reached the backend
    expect((await breakerOf())?.state).toBe("open");
    expect(backend.calls).toHaveLength(3);
  });

  it("stays closed through a storm of client errors (404, 400, 403, 401)", async () => {
    await start({ consecutiveFailures: 3, failureRatio: 0.1, minRequests: 5 });
    const codes = [
      grpc.status.NOT_FOUND,
      grpc.status.INVALID_ARGUMENT,
      grpc.status.PERMISSION_DENIED,
      grpc.status.UNAUTHENTICATED,
    ];
    backend.behave((_m, n) => ({ code: codes[n % codes.length]! }));
    for (let i = 0; i < 40; i++) await gw.call("GET", "/v1/echo/a");
    expect(backend.calls).toHaveLength(40);
    expect((await breakerOf())?.state).toBe("closed");
  });

  it("opens on the failure ratio over its window with enough requests", async () => {
    await start({ consecutiveFailures: 1000, failureRatio: 0.5, minRequests: 10, window: "10s" });
    backend.behave((_m, n) => (n % 2 === 0 ? { code: grpc.status.UNAVAILABLE } : { reply: "echo" }));
    for (let i = 0; i < 9; i++) await gw.call("GET", "/v1/echo/a");
    expect((await breakerOf())?.state).toBe("closed"); // fewer than minRequests
    await gw.call("GET", "/v1/echo/a");
    expect((await breakerOf())?.state).toBe("open");
  });

  it("refuses calls over the in-flight limit at once", async () => {
    await start({ maxRequests: 2 });
    backend.behave(() => ({ reply: "echo", delayMs: 300 }));
    const answers = await Promise.all([1, 2, 3].map(() => gw.call("GET", "/v1/echo/a")));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 503]);
    expect(backend.calls).toHaveLength(2);
  });

  it("refuses client codes as failure codes at load", () => {
    expect(() => readCircuitBreaker({ failureCodes: ["NOT_FOUND"] }, "circuitBreaker")).toThrow(
      /client errors/,
    );
    expect(DEFAULT_CIRCUIT_BREAKER.failureBreaker).toBe(false);
  });
});

describe("fault injection", () => {
  it("aborts a share of calls without calling the backend, and the breaker counts them", async () => {
    await start(
      { consecutiveFailures: 2, openFor: "10s" },
      { ...NO_RETRY, fault: { abort: { percent: 100, code: 14 } } },
    );
    const res = await gw.call("GET", "/v1/echo/a");
    expect(res.status).toBe(503);
    expect((res.body as { message: string }).message).toBe("fault injected by the gateway");
    await gw.call("GET", "/v1/echo/a");
    expect(backend.calls).toHaveLength(0);
    expect((await breakerOf())?.state).toBe("open");
  });

  it("delays a share of calls before they go upstream", async () => {
    await start({}, { ...NO_RETRY, fault: { delay: { percent: 100, ms: 300 } } });
    const sent = Date.now();
    expect((await gw.call("GET", "/v1/echo/a")).status).toBe(200);
    expect(backend.calls[0]!.at - sent).toBeGreaterThanOrEqual(290);
  });
});

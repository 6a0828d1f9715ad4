import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { type ScriptedServer, startScriptedServer } from "../helpers/scripted-server.js";

const UNAVAILABLE = { code: grpc.status.UNAVAILABLE, message: "down for a moment" };

describe("retries", () => {
  let backend: ScriptedServer;
  let gw: RunningGateway;
  beforeAll(async () => {
    backend = await startScriptedServer();
    gw = await startGateway({
      backend: backend.address,
      routeDefaults: { retry: { attempts: 3, initialBackoffMs: 5, maxBackoffMs: 20 } },
      methodSettings: { "test.v1.EchoService.EchoVerb": { idempotent: true } },
    });
  });
  afterAll(async () => {
    await gw.close();
    await backend.close();
  });
  beforeEach(() => {
    backend.calls.length = 0;
  });

  it("retries a GET whose backend answers UNAVAILABLE in trailers, telling it the attempt", async () => {
    backend.behave((_m, n) => (n === 1 ? UNAVAILABLE : { reply: "echo" }));
    const res = await gw.call("GET", "/v1/echo/a");
    expect(res.status).toBe(200);
    expect(backend.calls.map((c) => c.metadata["grpc-previous-rpc-attempts"])).toEqual([undefined, "1"]);
  });

  it("never repeats a non-idempotent POST that the backend processed", async () => {
    backend.behave(() => UNAVAILABLE);
    const res = await gw.call("POST", "/v1/echo", { body: "{}" });
    expect(res.status).toBe(503);
    expect(backend.calls).toHaveLength(1);
  });

  it.each([
    ["an Idempotency-Key", "/v1/echo", { "idempotency-key": "k-1" }],
    ["a method declared idempotent", "/v1/things/x:frob", {}],
  ])("repeats a POST with %s", async (_name, path, headers) => {
    backend.behave((_m, n) => (n < 3 ? UNAVAILABLE : { reply: "echo" }));
    const res = await gw.call("POST", path, { body: "{}", headers });
    expect(res.status).toBe(200);
    expect(backend.calls).toHaveLength(3);
  });

  it("retries only the configured codes: NOT_FOUND and INTERNAL are final", async () => {
    for (const code of [grpc.status.NOT_FOUND, grpc.status.INTERNAL]) {
      backend.calls.length = 0;
      backend.behave(() => ({ code }));
      await gw.call("GET", "/v1/echo/a");
      expect(backend.calls).toHaveLength(1);
    }
  });

  it("stops after the configured attempts", async () => {
    backend.behave(() => UNAVAILABLE);
    const res = await gw.call("GET", "/v1/echo/a");
    expect(res.status).toBe(503);
    expect(backend.calls).toHaveLength(3);
  });

  it("honours grpc-retry-pushback-ms: a negative value means never, a delay is waited", async () => {
    backend.behave(() => ({ ...UNAVAILABLE, trailers: { "grpc-retry-pushback-ms": "-1" } }));
    expect((await gw.call("GET", "/v1/echo/a")).status).toBe(503);
    expect(backend.calls).toHaveLength(1);

    backend.calls.length = 0;
    backend.behave((_m, n) =>
      n === 1 ? { ...UNAVAILABLE, trailers: { "grpc-retry-pushback-ms": "300" } } : { reply: "echo" },
    );
    expect((await gw.call("GET", "/v1/echo/a")).status).toBe(200);
    const [first, second] = backend.calls;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(290); // the backend's own clock
  });

  it("passes the server's pushback to the REST client as Retry-After when it gives up", async () => {
    backend.behave(() => ({ ...UNAVAILABLE, trailers: { "grpc-retry-pushback-ms": "60000" } }));
    const res = await gw.call("GET", "/v1/echo/a");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("60");
    expect(backend.calls).toHaveLength(1); // the wait is longer than the call's deadline
  });

  it("bounds all attempts by the call's deadline (Grpc-Timeout)", async () => {
    backend.behave(() => ({ ...UNAVAILABLE, trailers: { "grpc-retry-pushback-ms": "150" } }));
    const res = await gw.call("GET", "/v1/echo/a", { headers: { "grpc-timeout": "250m" } });
    expect([503, 504]).toContain(res.status); // given up before the deadline, or at it
    expect(backend.calls).toHaveLength(2);
    expect(backend.calls[0]!.timeoutMs).toBeGreaterThan(150);
    expect(backend.calls[1]!.timeoutMs).toBeLessThan(120); // what the first attempt and the wait left
  });
});

describe("per-try timeout", () => {
  it("cancels a hung attempt and retries it within the deadline", async () => {
    const backend = await startScriptedServer();
    const gw = await startGateway({
      backend: backend.address,
      routeDefaults: { retry: { attempts: 2, perTryTimeoutMs: 200, initialBackoffMs: 1 } },
    });
    try {
      backend.behave((_m, n) => (n === 1 ? { hang: true } : { reply: "echo" }));
      const res = await gw.call("GET", "/v1/echo/a");
      expect(res.status).toBe(200);
      expect(backend.calls).toHaveLength(2);
      expect(backend.calls[0]!.timeoutMs).toBeLessThanOrEqual(200);
      expect(backend.calls[0]!.timeoutMs).toBeGreaterThan(100);
      await new Promise((r) => setTimeout(r, 50));
      expect(backend.calls[0]!.cancelled).toBe(true);
    } finally {
      await gw.close();
      await backend.close();
    }
  });
});

describe("retry budget", () => {
  it("keeps attempts under the budget in a full outage", async () => {
    const backend = await startScriptedServer();
    const gw = await startGateway({
      backend: backend.address,
      routeDefaults: { retry: { attempts: 5, initialBackoffMs: 50, maxBackoffMs: 50 } },
      retryBudget: { percent: 20, minRetries: 2 },
    });
    try {
      backend.behave(() => ({ ...UNAVAILABLE, trailers: { "grpc-retry-pushback-ms": "100" } }));
      const n = 50;
      const answers = await Promise.all(Array.from({ length: n }, () => gw.call("GET", "/v1/echo/a")));
      expect(answers.every((a) => a.status === 503)).toBe(true);
      // without a budget: 5 attempts each (250); with it, retries in flight stay under 20% of 50
      expect(backend.calls.length).toBeLessThanOrEqual(n + 10 * 4);
      expect(backend.calls.length).toBeGreaterThan(n);
    } finally {
      await gw.close();
      await backend.close();
    }
  });
});

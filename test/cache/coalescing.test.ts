import * as grpc from "@grpc/grpc-js";
import { describe, expect, it, vi } from "vitest";
import { startGateway } from "../helpers/gateway.js";
import { startScriptedServer } from "../helpers/scripted-server.js";
import { scriptedGateway } from "./fixture.js";

const GET = "test.v1.EchoService.EchoGet";

describe("cache: coalescing, stale-while-revalidate, stale-if-error", () => {
  const f = scriptedGateway({
    methodSettings: { [GET]: { cache: { ttlMs: 60_000, lockTimeoutMs: 10_000 } } },
  });

  it("makes one backend call for 100 concurrent misses, and all get its answer", async () => {
    f.backend.behave(() => ({ reply: "echo", delayMs: 150 }));
    const replies = await Promise.all(
      Array.from({ length: 100 }, () => f.gw.call("GET", "/v1/echo/cold?i32=7")),
    );
    expect(f.backend.calls).toHaveLength(1);
    expect(new Set(replies.map((r) => r.status))).toEqual(new Set([200]));
    expect(new Set(replies.map((r) => r.text)).size).toBe(1);
    expect(replies.filter((r) => /collapsed/.test(r.headers.get("cache-status")!)).length).toBeGreaterThan(0);
  });

  it("does not fail the waiters with the leader: one more call answers them", async () => {
    f.backend.behave((_m, n) =>
      n === 1 ? { code: grpc.status.INTERNAL, delayMs: 150 } : { reply: "echo", delayMs: 50 },
    );
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => f.gw.call("GET", "/v1/echo/leader-fails")),
    );
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 500)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(19);
    expect(f.backend.calls).toHaveLength(2);
  });

  it("keeps the fill going when the client that started it goes away", async () => {
    f.backend.behave(() => ({ reply: "echo", delayMs: 300 }));
    const collapsed = async () =>
      (
        (await f.gw.call("GET", "/_protogate/status")).body as {
          interceptors: { cache: { collapsed: number } };
        }
      ).interceptors.cache.collapsed;
    const before = await collapsed();
    const quitter = new AbortController();
    const first = fetch(`${f.gw.url}/v1/echo/quitter`, { signal: quitter.signal }).catch(() => "aborted");
    await vi.waitFor(() => expect(f.backend.calls).toHaveLength(1));
    const others = Promise.all(Array.from({ length: 5 }, () => f.gw.call("GET", "/v1/echo/quitter")));
    await vi.waitFor(() => expect(collapsed()).resolves.toBe(before + 5));
    quitter.abort();
    expect(await first).toBe("aborted");
    const replies = await others;
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(f.backend.calls).toHaveLength(1);
  });

  it("cancels the backend call when every waiter went away", async () => {
    f.backend.behave(() => ({ hang: true }));
    const quitter = new AbortController();
    const first = fetch(`${f.gw.url}/v1/echo/all-quit`, { signal: quitter.signal }).catch(() => "aborted");
    await vi.waitFor(() => expect(f.backend.calls).toHaveLength(1));
    quitter.abort();
    await first;
    await vi.waitFor(() => expect(f.backend.calls[0]!.cancelled).toBe(true));
  });

  it("serves stale at once within stale-while-revalidate and refreshes once in the background", async () => {
    f.backend.behave(() => ({
      reply: "echo",
      delayMs: 100,
      metadata: { "cache-control": "max-age=0, stale-while-revalidate=60" },
    }));
    await f.gw.call("GET", "/v1/echo/swr");
    f.backend.calls.length = 0;
    const stale = await Promise.all(Array.from({ length: 10 }, () => f.gw.call("GET", "/v1/echo/swr")));
    for (const r of stale) {
      expect(r.status).toBe(200);
      expect(r.headers.get("cache-status")).toMatch(
        /^protogate; hit; ttl=-?\d+; detail=stale-while-revalidate/,
      );
    }
    await vi.waitFor(() => expect(f.backend.calls).toHaveLength(1));
    await vi.waitFor(async () => {
      const r = await f.gw.call("GET", "/v1/echo/swr");
      expect(Number(r.headers.get("age"))).toBe(0);
    });
    expect(f.backend.calls.length).toBeLessThanOrEqual(3);
  });

  it("serves stale within stale-if-error when the backend fails or times out, not after", async () => {
    f.backend.behave(() => ({
      reply: "echo",
      metadata: { "cache-control": "max-age=0, stale-if-error=60" },
    }));
    const first = await f.gw.call("GET", "/v1/echo/sie");
    f.backend.behave(() => ({ code: grpc.status.UNAVAILABLE }));
    const down = await f.gw.call("GET", "/v1/echo/sie");
    expect(down.status).toBe(200);
    expect(down.body).toEqual(first.body);
    expect(down.headers.get("cache-status")).toMatch(
      /^protogate; fwd=stale; fwd-status=503; detail=stale-if-error/,
    );
    f.backend.behave(() => ({ hang: true }));
    const slow = await f.gw.call("GET", "/v1/echo/sie", { headers: { "grpc-timeout": "100m" } });
    expect(slow.status).toBe(200);
    expect(slow.headers.get("cache-status")).toMatch(/fwd-status=504; detail=stale-if-error/);
    f.backend.behave(() => ({ code: grpc.status.NOT_FOUND }));
    const notFound = await f.gw.call("GET", "/v1/echo/sie");
    expect(notFound.status).toBe(404); // a 4xx is an answer, not an outage
  });
});

describe("cache: a stopped backend", () => {
  it("serves stale-if-error entries while the backend is down, and 503 for what it never stored", async () => {
    const backend = await startScriptedServer();
    const gw = await startGateway({
      backend: backend.address,
      methodSettings: { [GET]: { cache: { ttlMs: 0, staleIfErrorMs: 60_000, staleWhileRevalidateMs: 0 } } },
    });
    try {
      const first = await gw.call("GET", "/v1/echo/stopped");
      expect(first.headers.get("cache-status")).toMatch(/stored/);
      await backend.close();
      const down = await gw.call("GET", "/v1/echo/stopped");
      expect(down.status).toBe(200);
      expect(down.body).toEqual(first.body);
      expect(down.headers.get("cache-status")).toMatch(/fwd=stale; fwd-status=503/);
      expect((await gw.call("GET", "/v1/echo/never")).status).toBe(503);
    } finally {
      await gw.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { createGateway } from "../../src/server/gateway.js";
import { STREAM_PROTOS, type StreamServer, startStreamServer } from "./server.js";

// A WebSocket session's life (issue #14 item 6): it is not an HTTP request in flight for the listener's
// timeouts, and the gateway's shutdown ends it instead of waiting for it.

let backend: StreamServer;

beforeAll(async () => {
  backend = await startStreamServer();
});
afterAll(async () => {
  await backend?.close();
});

describe("WebSocket sessions and the listener's timeouts", () => {
  it("should outlive requestTimeout, headersTimeout and keepAliveTimeout", async () => {
    const gateway = await createGateway({
      protos: [STREAM_PROTOS],
      port: 0,
      logLevel: false,
      defaultBackend: backend.address,
      requestTimeoutMs: 1000,
      headersTimeoutMs: 500,
      keepAliveTimeoutMs: 500,
    });
    try {
      const ws = new WebSocket(`${(await gateway.listen()).replace(/^http/, "ws")}/v1/chat`);
      await new Promise((resolve, reject) => ws.on("open", resolve).on("error", reject));
      let closed = false;
      ws.on("close", () => (closed = true));
      await new Promise((r) => setTimeout(r, 2500)); // past every timeout of the listener
      ws.send('{"name":"late"}');
      expect(await new Promise((r) => ws.once("message", (m) => r(String(m))))).toBe(
        '{"name":"re: late","qty":1}',
      );
      expect(closed).toBe(false);
      ws.close();
    } finally {
      await gateway.close();
    }
  });
});

describe("WebSocket sessions at shutdown", () => {
  it("should end open sessions by the drain's schedule with 1001, cancel their calls, and not hold close() past the grace", async () => {
    const gateway = await createGateway({
      protos: [STREAM_PROTOS],
      port: 0,
      logLevel: false,
      defaultBackend: backend.address,
      shutdownGraceMs: 3000,
    });
    const ws = new WebSocket(`${(await gateway.listen()).replace(/^http/, "ws")}/v1/chat`);
    await new Promise((resolve, reject) => ws.on("open", resolve).on("error", reject));
    const closed = new Promise<number>((resolve) => ws.on("close", resolve));
    const frames: string[] = [];
    ws.on("message", (m) => frames.push(String(m)));
    ws.send('{"name":"one"}');
    await vi.waitFor(() => expect(frames).toHaveLength(1));
    const open = backend.open();
    const started = Date.now();
    await gateway.close();
    // the drain ends streams a second before its deadline: close() returns then, not after the grace
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await closed).toBe(1001);
    expect(JSON.parse(frames[1]!)).toMatchObject({ error: { code: 14 } });
    await vi.waitFor(() => expect(backend.open()).toBe(open - 1));
  });
});

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { StreamDrain } from "../../src/interceptors/stream-drain.js";
import type { Gateway } from "../../src/server/gateway.js";
import { streamOperation } from "../../src/server/streaming/operation-stream.js";
import type { Operation } from "../../src/upstream/amqp/operations.js";
import { type FlakyServer, flakyGateway, openLive, startFlakyServer } from "./flaky-server.js";

// Shutdown with streams open (issue #14 item 5 of the stream interceptors brief): the drain ends each
// stream with UNAVAILABLE "server shutting down" in its own framing before the drain deadline, and
// cancels the backend's stream, so that the client can tell and reconnect.

const GRACE_MS = 1500;
const STATUS = '{"code":14,"message":"server shutting down","details":[]}';

let backend: FlakyServer;
let gateway: Gateway;
let url: string;
beforeEach(async () => {
  backend = await startFlakyServer();
  ({ gateway, url } = await flakyGateway(backend.address, {
    shutdownDelayMs: 0,
    shutdownGraceMs: GRACE_MS,
  }));
});
afterEach(async () => {
  await gateway.close();
  await backend.close();
});

describe("streams at shutdown", () => {
  it("should end each open stream with the shutdown error record in its framing, then cancel the backend's stream", async () => {
    const path = "/v1/watch/w?forever=true&gap_ms=20";
    const ndjson = openLive(url, path);
    const sse = openLive(url, path, { accept: "text/event-stream" });
    const array = openLive(url, path, { accept: "application/json" });
    await Promise.all([ndjson.until("\n"), sse.until("\n\n"), array.until("}")]);
    const started = Date.now();
    const stopping = gateway.shutdown();
    const [n, s, a] = await Promise.all([ndjson.ended, sse.ended, array.ended]);
    const endedAt = Date.now();
    expect(await ndjson.status).toBe(200);
    expect(n.endsWith(`}\n{"error":${STATUS}}\n`)).toBe(true);
    expect(s.endsWith(`\n\nevent: error\ndata: ${STATUS}\n\n`)).toBe(true);
    const elements = JSON.parse(a) as unknown[];
    expect(elements.at(-1)).toEqual({ error: JSON.parse(STATUS) });
    expect(elements.length).toBeGreaterThan(1);
    // the streams went on during the drain and ended before its deadline
    expect(endedAt).toBeLessThanOrEqual(started + GRACE_MS);
    await expect.poll(() => backend.calls.map((c) => c.end)).toEqual(["cancelled", "cancelled", "cancelled"]);
    await stopping;
  });

  it("should answer a stream that sent nothing yet with a normal 503 error answer", async () => {
    const quiet = openLive(url, "/v1/watch/q?count=1&gap_ms=60000");
    await expect.poll(() => backend.calls.length).toBe(1);
    const stopping = gateway.shutdown();
    expect(await quiet.status).toBe(503);
    expect(JSON.parse(await quiet.ended)).toEqual(JSON.parse(STATUS));
    await expect.poll(() => backend.calls[0]?.end).toBe("cancelled");
    await stopping;
  });

  it("should send a WebSocket stream the shutdown status frame before closing it", async () => {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/v1/chat`);
    const frames: string[] = [];
    ws.on("message", (data) => frames.push(String(data)));
    const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
    await new Promise((resolve) => ws.on("open", resolve));
    ws.send('{"name":"a"}');
    await expect.poll(() => frames.length).toBe(1);
    const stopping = gateway.shutdown();
    const code = await closed;
    expect(frames).toEqual(['{"name":"re: a"}', `{"error":${STATUS}}`]);
    expect(code).toBe(1001); // going away: the client reconnects elsewhere

    await expect.poll(() => backend.calls[0]?.end).toBe("cancelled");
    await stopping;
  });
});

describe("an operation streamed at shutdown", () => {
  it("should end with the shutdown error record once the drain ends its streams", async () => {
    const drain = new StreamDrain();
    const pending: Operation = {
      name: "operations/7",
      done: false,
      metadata: {
        "@type": "type.googleapis.com/protogate.v1.CommandMetadata",
        value: { method: "m", createTime: "t" },
      },
    };
    const server = createServer((req, res) =>
      streamOperation(req, res, pending, async () => pending, {}, 5, drain),
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const live = openLive(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, "/", {
        accept: "application/x-ndjson",
      });
      await live.until("\n");
      expect(drain.size).toBe(1);
      drain.begin(Date.now() + 100);
      const body = await live.ended;
      expect(body.endsWith(`\n{"error":${STATUS}}\n`)).toBe(true);
      expect(drain.size).toBe(0);
    } finally {
      server.close();
    }
  });
});

import { type ClientRequest, type IncomingMessage, request } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Gateway } from "../../src/server/gateway.js";
import { raw, streamGateway } from "./http.js";
import { type StreamServer, startStreamServer } from "./server.js";

// Cancellation, backpressure and the stream timers (issue #14 item 4).

let backend: StreamServer;
let gateway: Gateway;
let url: string;

beforeAll(async () => {
  backend = await startStreamServer();
  ({ gateway, url } = await streamGateway(backend.address));
});
afterAll(async () => {
  await gateway.close();
  await backend.close();
});

/** Opens a stream and resolves once its response has started (the first message is there). */
function openStream(path: string): Promise<{ req: ClientRequest; res: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const req = request(url + path, (res) => {
      res.once("data", () => resolve({ req, res }));
      res.on("error", () => undefined);
    });
    req.on("error", (err) => {
      if ((err as NodeJS.ErrnoException).code !== "ECONNRESET") reject(err);
    });
    req.end();
  });
}

describe("client disconnect", () => {
  it("should leave no upstream stream open after 1,000 streams aborted by the client", async () => {
    const before = backend.started();
    for (let batch = 0; batch < 20; batch++) {
      const streams = await Promise.all(
        Array.from({ length: 50 }, () => openStream("/v1/watch/a?forever=true")),
      );
      for (const { req } of streams) req.destroy();
    }
    expect(backend.started() - before).toBe(1000);
    // The backend sees each cancellation (RST_STREAM CANCEL) as soon as the gateway sees the close.
    await vi.waitFor(() => expect(backend.open()).toBe(0), { timeout: 20_000, interval: 50 });
  }, 60_000);
});

describe("backpressure", () => {
  it("should stop reading from the backend while the client does not read, keeping the heap bounded", async () => {
    const MESSAGE = 64 * 1024;
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const writtenBefore = backend.written();
    const { req, res } = await openStream(`/v1/watch/slow?forever=true&pad=${MESSAGE}`);
    res.pause(); // a reader that stops reading: the slowest possible
    // The producer stops once the windows and socket buffers are full: wait until it no longer moves.
    let last = -1;
    await vi.waitFor(
      () => {
        const now = backend.written();
        const still = now === last;
        last = now;
        expect(still).toBe(true);
      },
      { timeout: 30_000, interval: 500 },
    );
    const produced = backend.written() - writtenBefore;
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    console.log(
      `slow reader: backend wrote ${produced} messages of 64 KiB (${((produced * MESSAGE) / 2 ** 20).toFixed(1)} MiB) before it was held back; heap growth ${(heapGrowth / 2 ** 20).toFixed(1)} MiB`,
    );
    // Windows (4 MiB stream window) and socket buffers, never the whole stream: a few hundred at most.
    expect(produced).toBeLessThan(400);
    expect(heapGrowth).toBeLessThan(64 * 2 ** 20);
    req.destroy();
    await vi.waitFor(() => expect(backend.open()).toBe(0), { timeout: 10_000 });
  }, 60_000);
});

describe("stream timers", () => {
  it("should end a stream past maxStreamDuration with DEADLINE_EXCEEDED in its framing", async () => {
    const limited = await streamGateway(backend.address, { Watch: { stream: { maxStreamDuration: 300 } } });
    try {
      const res = await raw(limited.url, "GET", "/v1/watch/d?forever=true");
      const lines = res.text.trimEnd().split("\n");
      expect(JSON.parse(lines[0]!)).toMatchObject({ seq: 1 });
      expect(JSON.parse(lines.at(-1)!)).toEqual({
        error: { code: 4, message: "the stream lasted longer than 300 ms (maxStreamDuration)", details: [] },
      });
      await vi.waitFor(() => expect(backend.open()).toBe(0), { timeout: 10_000 });
    } finally {
      await limited.gateway.close();
    }
  });

  it("should end a silent stream after idleTimeout with DEADLINE_EXCEEDED", async () => {
    const limited = await streamGateway(backend.address, { Watch: { stream: { idleTimeout: 200 } } });
    try {
      // before any message: a normal 504 answer
      const silent = await raw(limited.url, "GET", "/v1/watch/i?count=1&gap_ms=5000");
      expect(silent.status).toBe(504);
      expect(JSON.parse(silent.text)).toEqual({
        code: 4,
        message: "no message from the backend in 200 ms",
        details: [],
      });
      await vi.waitFor(() => expect(backend.open()).toBe(0), { timeout: 10_000 });
    } finally {
      await limited.gateway.close();
    }
  });
});

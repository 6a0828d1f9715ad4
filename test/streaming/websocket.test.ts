import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import type { Gateway } from "../../src/server/gateway.js";
import { streamGateway } from "./http.js";
import { type StreamServer, startStreamServer } from "./server.js";

// Bidi streaming over WebSocket with a real `ws` client (issue #14 item 6); with the edge policies:
// websocket-policies.test.ts.

let backend: StreamServer;
let gateway: Gateway;
let wsUrl: string;

beforeAll(async () => {
  backend = await startStreamServer();
  let url: string;
  ({ gateway, url } = await streamGateway(backend.address));
  wsUrl = url.replace(/^http/, "ws");
});
afterAll(async () => {
  await gateway.close();
  await backend.close();
});

interface Session {
  ws: WebSocket;
  frames: string[];
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves when `n` frames have come. */
  frame(n: number): Promise<void>;
}

function connect(path: string): Promise<Session> {
  const ws = new WebSocket(wsUrl + path);
  const frames: string[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  ws.on("message", (data) => {
    frames.push(data.toString());
    for (const w of waiters) if (frames.length >= w.n) w.resolve();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return new Promise((resolve, reject) => {
    ws.on("open", () =>
      resolve({
        ws,
        frames,
        closed,
        frame: (n) => new Promise((r) => (frames.length >= n ? r() : waiters.push({ n, resolve: r }))),
      }),
    );
    ws.on("error", reject);
  });
}

describe("WebSocket bidi", () => {
  it("should answer each text frame, half-close on an empty frame, send the status frame and close 1000", async () => {
    const s = await connect("/v1/chat");
    s.ws.send('{"name":"one","qty":1}');
    await s.frame(1); // each answer before the next message: truly bidirectional
    s.ws.send('{"name":"two"}');
    await s.frame(2);
    s.ws.send(""); // half-close
    expect(await s.closed).toEqual({ code: 1000, reason: "" });
    expect(s.frames).toEqual([
      '{"name":"re: one","qty":2}',
      '{"name":"re: two","qty":1}',
      '{"end":{"trailers":{}}}',
    ]);
  });

  it("should end with an error frame and close 4000 + code when the backend fails", async () => {
    const s = await connect("/v1/chat");
    s.ws.send('{"name":"fail"}');
    expect(await s.closed).toEqual({ code: 4009, reason: "asked to fail" });
    expect(s.frames).toEqual(['{"error":{"code":9,"message":"asked to fail","details":[]}}']);
  });

  it("should close 4003 on a message that is not JSON", async () => {
    const s = await connect("/v1/chat");
    s.ws.send("{not json");
    const closed = await s.closed;
    expect(closed.code).toBe(4003);
    expect(JSON.parse(s.frames.at(-1)!)).toMatchObject({ error: { code: 3 } });
  });

  it("should cancel the upstream call when the client closes", async () => {
    const s = await connect("/v1/chat");
    s.ws.send('{"name":"one"}');
    await s.frame(1);
    expect(backend.open()).toBe(1);
    s.ws.close();
    await vi.waitFor(() => expect(backend.open()).toBe(0), { timeout: 10_000 });
  });

  it("should stream a server-streaming method too, and refuse paths without a stream", async () => {
    const s = await connect("/v1/watch/w?count=2");
    s.ws.send("{}");
    expect((await s.closed).code).toBe(1000);
    expect(s.frames).toEqual([
      '{"seq":1,"name":"w"}',
      '{"seq":2,"name":"w"}',
      '{"end":{"trailers":{"x-total":["2"]}}}',
    ]);
    await expect(connect("/v1/nothing")).rejects.toThrow(/404/);
  });
});

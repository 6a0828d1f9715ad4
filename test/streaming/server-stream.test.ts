import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../src/server/gateway.js";
import { raw, streamGateway } from "./http.js";
import { type StreamServer, startStreamServer } from "./server.js";

// Server streaming over REST (issue #14 items 2, 3, 7): the three framings byte for byte, errors
// before and after the first message, trailers-only answers, HTTP trailers, SSE resume.

let backend: StreamServer;
let gateway: Gateway;
let url: string;

beforeAll(async () => {
  backend = await startStreamServer();
  ({ gateway, url } = await streamGateway(backend.address, {
    Watch: { stream: { retry: 2000, heartbeatInterval: 0 } },
  }));
});
afterAll(async () => {
  await gateway.close();
  await backend.close();
});

const ev = (seq: number) => `{"seq":${seq},"name":"s1"}`;
const END = '{"end":{"trailers":{"x-total":["2"]}}}';

describe("server streaming framings", () => {
  it.each([
    ["no Accept", undefined, "application/x-ndjson", `${ev(1)}\n${ev(2)}\n${END}\n`],
    ["*/*", "*/*", "application/x-ndjson", `${ev(1)}\n${ev(2)}\n${END}\n`],
    ["NDJSON", "application/x-ndjson", "application/x-ndjson", `${ev(1)}\n${ev(2)}\n${END}\n`],
    [
      "SSE",
      "text/event-stream",
      "text/event-stream",
      `retry: 2000\n\nid: 1\ndata: ${ev(1)}\n\nid: 2\ndata: ${ev(2)}\n\nevent: end\ndata: {"trailers":{"x-total":["2"]}}\n\n`,
    ],
    ["JSON array", "application/json", "application/json", `[${ev(1)},${ev(2)},${END}]`],
    [
      "SSE by quality",
      "application/json;q=0.5, text/event-stream",
      "text/event-stream",
      `retry: 2000\n\nid: 1\ndata: ${ev(1)}\n\nid: 2\ndata: ${ev(2)}\n\nevent: end\ndata: {"trailers":{"x-total":["2"]}}\n\n`,
    ],
  ])("should write %s byte for byte", async (_name, accept, type, body) => {
    const res = await raw(url, "GET", "/v1/watch/s1?count=2", accept ? { accept } : {});
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe(type);
    expect(res.headers["grpc-metadata-x-watch"]).toBe("s1");
    expect(res.text).toBe(body);
  });

  it("should end an empty stream with the end record only", async () => {
    const res = await raw(url, "GET", "/v1/watch/s0?count=0", { accept: "application/json" });
    expect(res.text).toBe('[{"end":{"trailers":{"x-total":["0"]}}}]');
  });
});

describe("how a stream ends", () => {
  it("should answer an error before the first message as a normal error answer", async () => {
    const res = await raw(url, "GET", "/v1/watch/e?fail_after=0&fail_code=5", {
      accept: "text/event-stream",
    });
    expect(res.status).toBe(404);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(res.text)).toEqual({ code: 5, message: "failed after 0", details: [] });
  });

  it("should answer an error after the headers but before any message as a normal error answer", async () => {
    const res = await raw(url, "GET", "/v1/watch/h?fail_code=7&headers_first=true");
    expect(res.status).toBe(403);
    expect(res.headers["grpc-metadata-x-watch"]).toBe("h");
    expect(JSON.parse(res.text)).toEqual({ code: 7, message: "failed after 0", details: [] });
  });

  it.each([
    [
      "application/x-ndjson",
      '{"seq":1,"name":"e"}\n{"error":{"code":9,"message":"failed after 1","details":[]}}\n',
    ],
    [
      "text/event-stream",
      'retry: 2000\n\nid: 1\ndata: {"seq":1,"name":"e"}\n\nevent: error\ndata: {"code":9,"message":"failed after 1","details":[]}\n\n',
    ],
    [
      "application/json",
      '[{"seq":1,"name":"e"},{"error":{"code":9,"message":"failed after 1","details":[]}}]',
    ],
  ])(
    "should end a stream that fails after its first message with an error record (%s)",
    async (accept, body) => {
      const res = await raw(url, "GET", "/v1/watch/e?count=5&fail_after=1&fail_code=9", { accept });
      expect(res.status).toBe(200);
      expect(res.text).toBe(body);
    },
  );

  it("should send grpc-status and grpc-message as HTTP trailers when the client accepts them", async () => {
    const ok = await raw(url, "GET", "/v1/watch/t?count=1", { te: "trailers" });
    expect(ok.headers.trailer).toBe("grpc-status, grpc-message");
    expect(ok.trailers).toEqual({ "grpc-status": "0", "grpc-message": "" });
    const failed = await raw(url, "GET", "/v1/watch/t?count=3&fail_after=1&fail_code=9", { te: "trailers" });
    expect(failed.trailers).toEqual({ "grpc-status": "9", "grpc-message": "failed%20after%201" });
    const none = await raw(url, "GET", "/v1/watch/t?count=1");
    expect(none.trailers).toEqual({});
  });

  it("should wrap messages as {result} when the route says so", async () => {
    const wrapped = await streamGateway(backend.address, { Watch: { stream: { wrapMessages: true } } });
    try {
      const res = await raw(wrapped.url, "GET", "/v1/watch/w?count=1");
      expect(res.text).toBe('{"result":{"seq":1,"name":"w"}}\n{"end":{"trailers":{"x-total":["1"]}}}\n');
    } finally {
      await wrapped.gateway.close();
    }
  });
});

describe("SSE resume", () => {
  it("should forward Last-Event-ID as last-event-id metadata and number events after it", async () => {
    const res = await raw(url, "GET", "/v1/watch/r?count=1", {
      accept: "text/event-stream",
      "last-event-id": "41",
    });
    expect(backend.lastMetadata()?.get("last-event-id")).toEqual(["41"]);
    expect(res.text).toBe(
      'retry: 2000\n\nid: 42\ndata: {"seq":1,"name":"r","lastEventId":"41"}\n\nevent: end\ndata: {"trailers":{"x-total":["1"]}}\n\n',
    );
  });
});

describe("SSE heartbeats", () => {
  it("should write comment heartbeats while the backend is silent, and still end with the end record", async () => {
    const beating = await streamGateway(backend.address, { Watch: { stream: { heartbeatInterval: 20 } } });
    try {
      const res = await raw(beating.url, "GET", "/v1/watch/hb?count=1&gap_ms=300", {
        accept: "text/event-stream",
      });
      expect(res.status).toBe(200);
      // heartbeats only between records, never inside one
      expect(res.text).toMatch(
        /^(: heartbeat\n\n)+id: 1\ndata: \{"seq":1,"name":"hb"\}\n\n(: heartbeat\n\n)*event: end\ndata: \{"trailers":\{"x-total":\["1"\]\}\}\n\n$/,
      );
    } finally {
      await beating.gateway.close();
    }
  });
});

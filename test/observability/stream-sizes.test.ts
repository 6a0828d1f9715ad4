import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Spawned, serveLogging } from "../helpers/process.js";
import { raw } from "../streaming/http.js";
import { STREAM_PROTOS, type StreamServer, startStreamServer } from "../streaming/server.js";
import { parseExposition, sampleValue } from "./exposition.js";

/**
 * Body sizes of streamed requests and answers, which have no Content-Length: the access log's
 * `bytesIn`/`bytesOut` and the body size histograms count the bytes that really went over the wire
 * (after framing: NDJSON lines, SSE records, WebSocket message payloads). `protogate serve` in a child
 * process (as access-log.test.ts: its stdout parsed), in front of the streaming test backend; /metrics
 * scraped before and after each exchange.
 */
let backend: StreamServer;
let gw: Spawned;
let url: string;

beforeAll(async () => {
  backend = await startStreamServer();
  gw = serveLogging(STREAM_PROTOS, backend.address);
  url = await gw.url;
});
afterAll(async () => {
  await gw?.stop();
  await backend?.close();
});

type Line = Record<string, unknown>;

/** Waits for the access line of a request id (lines are written after the response, in batches). */
async function lineOf(reqId: string): Promise<Line> {
  for (let i = 0; i < 200; i++) {
    const found = gw
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Line)
      .find((l) => l.msg === "request" && l.reqId === reqId);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no access log line for ${reqId}:\n${gw.output()}`);
}

const REQUEST_SIZE = "protogate_http_server_request_body_size_bytes";
const RESPONSE_SIZE = "protogate_http_server_response_body_size_bytes";

/** The `_sum` and `_count` of both body size histograms of one route. */
async function sizes(method: string, route: string): Promise<Record<string, number>> {
  const samples = parseExposition((await raw(url, "GET", "/metrics")).text);
  const out: Record<string, number> = {};
  for (const name of [REQUEST_SIZE, RESPONSE_SIZE])
    for (const part of ["sum", "count"])
      out[`${name}_${part}`] = sampleValue(samples, `${name}_${part}`, { method, route }) ?? 0;
  return out;
}

/** What the size histograms of a route gained between two scrapes. */
function gained(before: Record<string, number>, after: Record<string, number>) {
  const d = (k: string) => after[k]! - before[k]!;
  return {
    requests: d(`${REQUEST_SIZE}_count`),
    requestBytes: d(`${REQUEST_SIZE}_sum`),
    responses: d(`${RESPONSE_SIZE}_count`),
    responseBytes: d(`${RESPONSE_SIZE}_sum`),
  };
}

/** The metrics of an exchange: scraped until the request is counted (observed with its log line). */
async function after(
  method: string,
  route: string,
  before: Record<string, number>,
): Promise<ReturnType<typeof gained>> {
  for (let i = 0; i < 100; i++) {
    const g = gained(before, await sizes(method, route));
    if (g.responses > 0) return g;
    await new Promise((r) => setTimeout(r, 25));
  }
  const counts = (await raw(url, "GET", "/metrics")).text
    .split("\n")
    .filter((l) => l.includes("body_size_bytes_count"));
  throw new Error(`${method} ${route} was never counted in the size histograms:\n${counts.join("\n")}`);
}

const WATCH = "/v1/watch/{name}";

describe("streamed answers' sizes", () => {
  // pad: a few KB in all (multi-byte text: the streamed requests below)
  it.each([
    ["NDJSON", "application/x-ndjson", /^\{"seq":1,/],
    ["SSE", "text/event-stream", /^id: 1\ndata: \{"seq":1,/],
    ["a JSON array", "application/json", /^\[\{"seq":1,/],
  ])("should log and measure the bytes of a server stream as %s", async (name, accept, first) => {
    const reqId = `sizes-watch-${name.replace(/\W/g, "")}`;
    const before = await sizes("GET", WATCH);
    const res = await raw(url, "GET", "/v1/watch/w?count=12&pad=700", {
      accept,
      "x-request-id": reqId,
    });
    expect(res.status).toBe(200);
    expect(res.headers["content-length"]).toBeUndefined();
    expect(res.text).toMatch(first);
    const bytes = Buffer.byteLength(res.text);
    expect(bytes).toBeGreaterThan(8000);
    expect(await lineOf(reqId)).toMatchObject({ route: WATCH, status: 200, bytesIn: 0, bytesOut: bytes });
    expect(await after("GET", WATCH, before)).toEqual({
      requests: 1,
      requestBytes: 0,
      responses: 1,
      responseBytes: bytes,
    });
  });

  it("should count an error answered before the stream started as its body", async () => {
    const before = await sizes("GET", WATCH);
    const res = await raw(url, "GET", "/v1/watch/x?fail_code=9", { "x-request-id": "sizes-watch-error" });
    expect(res.status).toBe(400);
    const bytes = Buffer.byteLength(res.text);
    expect(await lineOf("sizes-watch-error")).toMatchObject({ status: 400, bytesOut: bytes });
    expect((await after("GET", WATCH, before)).responseBytes).toBe(bytes);
  });
});

describe("streamed requests' sizes", () => {
  it.each([
    ["a client stream", "/v1/items:upload"],
    ["a bidi stream", "/v1/chat"],
  ])("should log and measure the NDJSON bytes of %s sent chunked", async (_n, path) => {
    const reqId = `sizes-ndjson-${path.replace(/\W/g, "")}`;
    const parts = ['{"name":"a"}\n{"na', 'me":"été","qty":2}\r\n', "\n", '{"name":"日本"}\n'];
    const before = await sizes("POST", path);
    // one write per part, apart: the body arrives in several chunks, without a Content-Length
    const res = await raw(
      url,
      "POST",
      path,
      { "content-type": "application/x-ndjson", "x-request-id": reqId },
      parts,
    );
    expect(res.status).toBe(200);
    expect(res.headers["content-length"]).toBeUndefined();
    const bytesIn = Buffer.byteLength(parts.join(""));
    const bytesOut = Buffer.byteLength(res.text);
    expect(await lineOf(reqId)).toMatchObject({ route: path, status: 200, bytesIn, bytesOut });
    expect(await after("POST", path, before)).toEqual({
      requests: 1,
      requestBytes: bytesIn,
      responses: 1,
      responseBytes: bytesOut,
    });
  });
});

describe("WebSocket sessions' sizes", () => {
  it("should log and measure the payload bytes of the messages each way", async () => {
    const before = await sizes("GET", "/v1/chat");
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/v1/chat`, {
      headers: { "x-request-id": "sizes-ws" },
    });
    const received: Buffer[] = [];
    const sent = ['{"name":"one","qty":1}', '{"name":"été"}', '{"name":"日本語"}'];
    ws.on("message", (data: Buffer) => {
      received.push(data);
      if (received.length < sent.length) ws.send(sent[received.length]!);
      else if (received.length === sent.length) ws.send(""); // half-close
    });
    const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
    await new Promise((resolve, reject) => ws.on("open", resolve).on("error", reject));
    ws.send(sent[0]!);
    expect(await closed).toBe(1000);
    expect(received.map(String)).toEqual([
      '{"name":"re: one","qty":2}',
      '{"name":"re: été","qty":1}',
      '{"name":"re: 日本語","qty":1}',
      '{"end":{"trailers":{}}}',
    ]);
    const bytesIn = Buffer.byteLength(sent.join(""));
    const bytesOut = received.reduce((n, m) => n + m.length, 0);
    expect(await lineOf("sizes-ws")).toMatchObject({ route: "/v1/chat", status: 101, bytesIn, bytesOut });
    expect(await after("GET", "/v1/chat", before)).toEqual({
      requests: 1,
      requestBytes: bytesIn,
      responses: 1,
      responseBytes: bytesOut,
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../src/server/gateway.js";
import { type FlakyServer, flakyGateway, openLive, startFlakyServer } from "../streaming/flaky-server.js";
import { raw } from "../streaming/http.js";
import { parseExposition, promtool, type Sample, sampleValue } from "./exposition.js";

/**
 * GET /metrics after a known set of streams through the stream metrics interceptor: messages each way,
 * active streams, stream durations and upstream attempt durations with the final gRPC code. Metrics
 * live in the process (prom-client's default registry): vitest runs each file in its own context.
 */
const WATCH = { rpc_method: "streamtest.v1.Streams/Watch" };
const CHAT = { rpc_method: "streamtest.v1.Streams/Chat" };
const MESSAGES = "protogate_upstream_stream_messages_total";
const ACTIVE = "protogate_upstream_active_streams";
const STREAM = "protogate_upstream_stream_duration_seconds";
const UPSTREAM = "protogate_upstream_request_duration_seconds";

let backend: FlakyServer;
let gateway: Gateway;
let url: string;

beforeAll(async () => {
  backend = await startFlakyServer();
  ({ gateway, url } = await flakyGateway(backend.address, { routeDefaults: { retry: { attempts: 1 } } }));
});
afterAll(async () => {
  await gateway?.close();
  await backend?.close();
});

async function scrape(): Promise<{ text: string; samples: Sample[] }> {
  const res = await raw(url, "GET", "/metrics");
  expect(res.status).toBe(200);
  return { text: res.text, samples: parseExposition(res.text) };
}

describe("stream metrics after known streams", () => {
  let text: string;
  let samples: Sample[];

  beforeAll(async () => {
    // two server streams of 3 messages, one that fails after 1 (FAILED_PRECONDITION), a bidi of 2
    for (const name of ["a", "b"])
      expect((await raw(url, "GET", `/v1/watch/${name}?count=3`)).status).toBe(200);
    backend.failNext(1, { code: 9, afterMessages: 1 });
    expect((await raw(url, "GET", "/v1/watch/f?count=3")).text).toContain('"code":9');
    const chat = await raw(
      url,
      "POST",
      "/v1/chat",
      { "content-type": "application/x-ndjson" },
      '{"name":"x"}\n{"name":"y"}\n',
    );
    expect(chat.text).toContain("re: y");
    ({ text, samples } = await scrape());
  });

  it("should count messages each way by method", () => {
    expect(sampleValue(samples, MESSAGES, { ...WATCH, direction: "received" })).toBe(7);
    expect(sampleValue(samples, MESSAGES, { ...WATCH, direction: "sent" })).toBe(3);
    expect(sampleValue(samples, MESSAGES, { ...CHAT, direction: "received" })).toBe(2);
    expect(sampleValue(samples, MESSAGES, { ...CHAT, direction: "sent" })).toBe(2);
    expect(
      sampleValue(samples, MESSAGES, {
        ...WATCH,
        direction: "sent",
        protocol: "grpc",
        backend: backend.address,
      }),
    ).toBe(3);
  });

  it("should observe each stream's duration with its final code, in both duration histograms", () => {
    for (const name of [STREAM, UPSTREAM]) {
      expect(sampleValue(samples, `${name}_count`, { ...WATCH, outcome: "OK" })).toBe(2);
      expect(sampleValue(samples, `${name}_count`, { ...WATCH, outcome: "FAILED_PRECONDITION" })).toBe(1);
      expect(sampleValue(samples, `${name}_count`, { ...CHAT, outcome: "OK" })).toBe(1);
    }
    expect(sampleValue(samples, `${STREAM}_bucket`, { ...WATCH, outcome: "OK", le: "3600" })).toBe(2);
  });

  it("should show the streams open now", async () => {
    expect(sampleValue(samples, ACTIVE, WATCH)).toBe(0);
    const live = openLive(url, "/v1/watch/live?forever=true&gap_ms=20");
    await live.until("\n");
    expect(sampleValue((await scrape()).samples, ACTIVE, WATCH)).toBe(1);
    live.destroy();
    await expect.poll(async () => sampleValue((await scrape()).samples, ACTIVE, WATCH)).toBe(0);
    expect(sampleValue((await scrape()).samples, `${STREAM}_count`, { ...WATCH, outcome: "CANCELLED" })).toBe(
      1,
    );
  });

  it("should be accepted by promtool check metrics", () => {
    const own = text
      .split("\n")
      .filter((l) => !/^(# (HELP|TYPE) )?(nodejs_|process_)/.test(l))
      .join("\n");
    expect(own).toContain(MESSAGES);
    expect(promtool(own)).toEqual({ status: 0, output: "" });
  });
});

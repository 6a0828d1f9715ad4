import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../src/server/gateway.js";
import { type FlakyServer, flakyGateway, startFlakyServer } from "../streaming/flaky-server.js";
import { raw } from "../streaming/http.js";
import { KIND, type OtlpReceiver, type ReceivedSpan, STATUS, startOtlpReceiver } from "./otlp-receiver.js";

/**
 * CLIENT spans of upstream streams, one per attempt, exported over OTLP/HTTP protobuf to a real receiver
 * in the test: RPC attributes, the final gRPC status code, the backend continuing the span.
 */
process.env.OTEL_BSP_SCHEDULE_DELAY = "20"; // export within the test, not every 5 s

const CLIENT_SPAN = "00f067aa0ba902b7";
const traceparent = (traceId: string) => ({ traceparent: `00-${traceId}-${CLIENT_SPAN}-01` });

let backend: FlakyServer;
let receiver: OtlpReceiver;
let gateway: Gateway;
let url: string;

beforeAll(async () => {
  backend = await startFlakyServer();
  receiver = await startOtlpReceiver();
  ({ gateway, url } = await flakyGateway(backend.address, {
    tracing: { enabled: true, endpoint: receiver.url },
    routeDefaults: { retry: { attempts: 2, initialBackoffMs: 5, maxBackoffMs: 10 } },
  }));
});
afterAll(async () => {
  await gateway?.close();
  await backend?.close();
  await receiver?.close();
});

/** The CLIENT spans of one trace once `count` of them arrived, in start order. */
async function clientSpans(traceId: string, count: number): Promise<ReceivedSpan[]> {
  for (let i = 0; i < 400; i++) {
    const spans = receiver.spans.filter((s) => s.traceId === traceId && s.kind === KIND.CLIENT);
    if (spans.length >= count) return spans;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`trace ${traceId}: ${JSON.stringify(receiver.spans.filter((s) => s.traceId === traceId))}`);
}

describe("CLIENT spans of streams", () => {
  it("should trace a server stream with the RPC conventions, its final code and message counts", async () => {
    const traceId = "33333333333333333333333333333333";
    expect((await raw(url, "GET", "/v1/watch/t?count=2", traceparent(traceId))).status).toBe(200);
    const [span] = await clientSpans(traceId, 1);
    expect(span).toMatchObject({
      name: "streamtest.v1.Streams/Watch",
      status: { code: STATUS.UNSET },
      attributes: {
        "rpc.system": "grpc",
        "rpc.service": "streamtest.v1.Streams",
        "rpc.method": "Watch",
        "rpc.grpc.status_code": 0,
        "server.address": "127.0.0.1",
        "server.port": Number(backend.address.split(":")[1]),
        "protogate.stream.messages_sent": 1,
        "protogate.stream.messages_received": 2,
      },
    });
    expect(span!.parentSpanId).not.toBe(CLIENT_SPAN); // the gateway's SERVER span is between
    // the backend continues from the CLIENT span
    expect(backend.calls.at(-1)!.metadata.traceparent).toBe(`00-${traceId}-${span!.spanId}-01`);
  });

  it("should give each attempt of a retried stream its own span and code", async () => {
    const traceId = "44444444444444444444444444444444";
    backend.failNext(1, { code: 14, afterMessages: 0 });
    expect((await raw(url, "GET", "/v1/watch/r?count=1", traceparent(traceId))).status).toBe(200);
    const spans = await clientSpans(traceId, 2);
    expect(spans.map((s) => s.attributes["rpc.grpc.status_code"]).sort()).toEqual([0, 14]);
    expect(spans.find((s) => s.attributes["rpc.grpc.status_code"] === 14)).toMatchObject({
      status: { code: STATUS.ERROR, message: "failed after 0" },
      attributes: { "error.type": "UNAVAILABLE" },
    });
    expect(new Set(spans.map((s) => s.parentSpanId)).size).toBe(1);
  });

  it("should mark a stream that failed after its first message an error with the final code", async () => {
    const traceId = "55555555555555555555555555555555";
    backend.failNext(1, { code: 9, afterMessages: 1 });
    const res = await raw(url, "GET", "/v1/watch/f?count=3", traceparent(traceId));
    expect(res.text).toContain('{"error":{"code":9');
    const [span] = await clientSpans(traceId, 1);
    expect(span).toMatchObject({
      status: { code: STATUS.ERROR },
      attributes: {
        "rpc.grpc.status_code": 9,
        "error.type": "FAILED_PRECONDITION",
        "protogate.stream.messages_received": 1,
      },
    });
  });
});

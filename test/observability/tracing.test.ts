import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EchoServer, startEchoServer } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { KIND, type OtlpReceiver, type ReceivedSpan, STATUS, startOtlpReceiver } from "./otlp-receiver.js";

/**
 * OpenTelemetry traces end to end: HTTP in, gRPC to a real backend, spans exported over OTLP/HTTP
 * protobuf to a receiver in the test, which decodes them.
 */
process.env.OTEL_BSP_SCHEDULE_DELAY = "20"; // export within the test, not every 5 s

const CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN = "00f067aa0ba902b7";

let backend: EchoServer;
let receiver: OtlpReceiver;
let gw: RunningGateway;

beforeAll(async () => {
  backend = await startEchoServer();
  receiver = await startOtlpReceiver();
  gw = await startGateway({ backend: backend.address, tracing: { enabled: true, endpoint: receiver.url } });
});
afterAll(async () => {
  await gw?.close();
  await backend?.close();
  await receiver?.close();
});

/** The spans of one trace once `count` of them arrived. */
async function trace(traceId: string, count: number): Promise<ReceivedSpan[]> {
  for (let i = 0; i < 400; i++) {
    const spans = receiver.spans.filter((s) => s.traceId === traceId);
    if (spans.length >= count) return spans;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`trace ${traceId}: ${JSON.stringify(receiver.spans.filter((s) => s.traceId === traceId))}`);
}

/** The traceparent the backend received on its last call, parsed. */
function backendTraceparent(): { traceId: string; spanId: string; flags: string; tracestate?: string } {
  const md = backend.last().metadata;
  const [, traceId, spanId, flags] = (md.traceparent?.[0] ?? "").split("-");
  return { traceId: traceId!, spanId: spanId!, flags: flags!, tracestate: md.tracestate?.[0] };
}

describe("tracing on", () => {
  it("should continue the client's trace: SERVER span, CLIENT span, backend sees the client span", async () => {
    const res = await gw.call("POST", "/v1/echo", {
      body: '{"s":"traced"}',
      headers: {
        traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`,
        tracestate: "vendor=abc",
        "user-agent": "t/1",
      },
    });
    expect(res.status).toBe(200);
    const spans = await trace(CLIENT_TRACE, 2);
    const server = spans.find((s) => s.kind === KIND.SERVER)!;
    const client = spans.find((s) => s.kind === KIND.CLIENT)!;
    expect(server).toMatchObject({
      name: "POST /v1/echo",
      parentSpanId: CLIENT_SPAN,
      traceState: "vendor=abc",
      status: { code: STATUS.UNSET },
      scope: "protogate",
      attributes: {
        "http.request.method": "POST",
        "http.route": "/v1/echo",
        "http.response.status_code": 200,
        "url.path": "/v1/echo",
        "url.scheme": "http",
        "client.address": "127.0.0.1",
        "user_agent.original": "t/1",
        "protogate.upstream.outcome": "OK",
      },
    });
    expect(server.resource["service.name"]).toBe("protogate");
    expect(client).toMatchObject({
      name: "test.v1.EchoService/EchoAll",
      parentSpanId: server.spanId,
      status: { code: STATUS.UNSET },
      attributes: {
        "rpc.system": "grpc",
        "rpc.service": "test.v1.EchoService",
        "rpc.method": "EchoAll",
        "rpc.grpc.status_code": 0,
        "server.address": "127.0.0.1",
      },
    });
    expect(client.attributes["server.port"]).toBe(Number(backend.address.split(":")[1]));
    // the backend continues from the CLIENT span, in the same trace, with the client's tracestate
    expect(backendTraceparent()).toEqual({
      traceId: CLIENT_TRACE,
      spanId: client.spanId,
      flags: "01",
      tracestate: "vendor=abc",
    });
  });

  it("should start a trace when the client sent none, and the backend get its id", async () => {
    expect((await gw.call("GET", "/v1/echo/new-trace")).status).toBe(200);
    const sent = backendTraceparent();
    expect(sent.traceId).toMatch(/^[0-9a-f]{32}$/);
    const spans = await trace(sent.traceId, 2);
    const server = spans.find((s) => s.kind === KIND.SERVER)!;
    expect(server).toMatchObject({ name: "GET /v1/echo/{s}", parentSpanId: "" });
    expect(spans.find((s) => s.kind === KIND.CLIENT)).toMatchObject({
      name: "test.v1.EchoService/EchoGet",
      parentSpanId: server.spanId,
      spanId: sent.spanId,
    });
  });

  it("should mark a 5xx an error on both spans, with the gRPC status code", async () => {
    const traceId = "11111111111111111111111111111111";
    const res = await gw.call("POST", "/v1/fail", {
      body: '{"code":14,"message":"down"}',
      headers: { traceparent: `00-${traceId}-${CLIENT_SPAN}-01` },
    });
    expect(res.status).toBe(503);
    const spans = await trace(traceId, 2);
    expect(spans.find((s) => s.kind === KIND.SERVER)).toMatchObject({
      name: "POST /v1/fail",
      status: { code: STATUS.ERROR },
      attributes: { "http.response.status_code": 503, "error.type": "503" },
    });
    expect(spans.find((s) => s.kind === KIND.CLIENT)).toMatchObject({
      status: { code: STATUS.ERROR, message: "down" },
      attributes: { "rpc.grpc.status_code": 14, "error.type": "UNAVAILABLE" },
    });
  });

  it("should leave a 4xx's status unset, and name a miss by its method only", async () => {
    const traceId = "22222222222222222222222222222222";
    const res = await gw.call("POST", "/v1/fail", {
      body: '{"code":5,"message":"nope"}',
      headers: { traceparent: `00-${traceId}-${CLIENT_SPAN}-01` },
    });
    expect(res.status).toBe(404);
    const spans = await trace(traceId, 2);
    expect(spans.find((s) => s.kind === KIND.SERVER)).toMatchObject({
      status: { code: STATUS.UNSET },
      attributes: { "http.response.status_code": 404 },
    });
    const missTrace = "33333333333333333333333333333333";
    expect(
      (await gw.call("GET", "/no/route", { headers: { traceparent: `00-${missTrace}-${CLIENT_SPAN}-01` } }))
        .status,
    ).toBe(404);
    const [miss] = await trace(missTrace, 1);
    expect(miss).toMatchObject({ name: "GET", kind: KIND.SERVER, status: { code: STATUS.UNSET } });
    expect(miss!.attributes).not.toHaveProperty("http.route");
    expect(receiver.contentTypes.every((t) => t === "application/x-protobuf")).toBe(true);
  });
});

describe("sampling", () => {
  let unsampled: RunningGateway;
  beforeAll(async () => {
    unsampled = await startGateway({
      backend: backend.address,
      tracing: { enabled: true, endpoint: receiver.url, sampleRatio: 0 },
    });
  });
  afterAll(async () => {
    await unsampled?.close();
  });

  it("should follow the client's sampled flag (parent-based) and still propagate when not sampled", async () => {
    const sampled = "44444444444444444444444444444444";
    await unsampled.call("GET", "/v1/echo/s", {
      headers: { traceparent: `00-${sampled}-${CLIENT_SPAN}-01` },
    });
    expect(await trace(sampled, 2)).toHaveLength(2);

    const notSampled = "55555555555555555555555555555555";
    await unsampled.call("GET", "/v1/echo/n", {
      headers: { traceparent: `00-${notSampled}-${CLIENT_SPAN}-00` },
    });
    expect(backendTraceparent()).toMatchObject({ traceId: notSampled, flags: "00" });
    await unsampled.call("GET", "/v1/echo/root"); // ratio 0: a new trace is not sampled
    const root = backendTraceparent();
    expect(root.flags).toBe("00");
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.spans.filter((s) => s.traceId === notSampled || s.traceId === root.traceId)).toEqual([]);
  });
});

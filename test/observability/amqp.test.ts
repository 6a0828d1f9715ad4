import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as amqp from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAmqpConfig } from "../../src/upstream/amqp/config.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { skipUnless } from "../helpers/services.js";
import { parseExposition, sampleValue } from "./exposition.js";
import { KIND, type OtlpReceiver, startOtlpReceiver } from "./otlp-receiver.js";

/** AMQP with observability, against the real RabbitMQ: trace context in message headers, spans, metrics. */
process.env.OTEL_BSP_SCHEDULE_DELAY = "20";

const PROTOS = fileURLToPath(new URL("../protos-amqp", import.meta.url));
const run = randomUUID().slice(0, 8);
const ORDERS = `test.obs.orders.${run}`;
const ORDERS_Q = `test.obs.orders.q.${run}`;
const NOWHERE = `test.obs.nowhere.${run}`;
const RESULTS = `test.obs.results.${run}`;
const TRACE = "6e0c63257de34c92bf9efcd03927272e";
const PARENT = "b7ad6b7169203331";

const skip = await skipUnless("rabbitmq", 5672);
let gw: RunningGateway;
let receiver: OtlpReceiver;
let conn: amqp.ChannelModel;
let ch: amqp.Channel;

beforeAll(async () => {
  if (skip) return;
  const mappings = mkdtempSync(join(tmpdir(), "protogate-obs-amqp-"));
  writeFileSync(
    join(mappings, "amqp.yaml"),
    [
      "amqp:",
      "  bindings:",
      `    - { selector: shop.v1.CommandService.PlaceOrder, exchange: ${ORDERS}, routingKey: "orders.{region}.place" }`,
      `    - { selector: shop.v1.CommandService.Unrouted, exchange: ${NOWHERE}, routingKey: "x" }`,
    ].join("\n"),
  );
  conn = await amqp.connect("amqp://guest:guest@127.0.0.1:5672");
  ch = await conn.createChannel();
  await ch.assertExchange(ORDERS, "topic", { durable: true });
  await ch.assertQueue(ORDERS_Q, { durable: true });
  await ch.bindQueue(ORDERS_Q, ORDERS, "orders.#");
  receiver = await startOtlpReceiver();
  gw = await startGateway({
    protos: [PROTOS],
    mappings,
    amqp: readAmqpConfig(
      { confirmTimeout: "3s", operations: { resultsExchange: RESULTS, resultsQueue: `${RESULTS}.q` } },
      "amqp",
    ),
    tracing: { enabled: true, endpoint: receiver.url },
  });
  for (let i = 0; i < 200 && (await gw.call("GET", "/_protogate/ready")).status !== 200; i++)
    await new Promise((r) => setTimeout(r, 50));
});
afterAll(async () => {
  await gw?.close();
  await receiver?.close();
  if (ch) {
    for (const q of [ORDERS_Q, `${RESULTS}.q`]) await ch.deleteQueue(q).catch(() => undefined);
    for (const ex of [ORDERS, NOWHERE, RESULTS]) await ch.deleteExchange(ex).catch(() => undefined);
  }
  await conn?.close().catch(() => undefined);
});

async function nextMessage(): Promise<amqp.GetMessage> {
  for (let i = 0; i < 120; i++) {
    const m = await ch.get(ORDERS_Q, { noAck: true });
    if (m) return m;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("no message");
}

describe.skipIf(skip)("AMQP observability", () => {
  it("should put the CLIENT span's traceparent in the message headers, with messaging attributes", async () => {
    const res = await gw.call("POST", "/v1/orders/eu", {
      body: JSON.stringify({ item: "book", quantity: 1 }),
      headers: {
        "content-type": "application/json",
        traceparent: `00-${TRACE}-${PARENT}-01`,
        tracestate: "v=1",
      },
    });
    expect(res.status).toBe(202);
    const msg = await nextMessage();
    const [, traceId, spanId] = String(msg.properties.headers?.traceparent).split("-");
    expect(traceId).toBe(TRACE);
    expect(msg.properties.headers?.tracestate).toBe("v=1");
    let spans = receiver.spans.filter((s) => s.traceId === TRACE);
    for (let i = 0; i < 200 && spans.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 25));
      spans = receiver.spans.filter((s) => s.traceId === TRACE);
    }
    const server = spans.find((s) => s.kind === KIND.SERVER)!;
    expect(server).toMatchObject({ name: "POST /v1/orders/{region}", parentSpanId: PARENT });
    expect(spans.find((s) => s.kind === KIND.CLIENT)).toMatchObject({
      name: `publish ${ORDERS}`,
      spanId,
      parentSpanId: server.spanId,
      attributes: {
        "messaging.system": "rabbitmq",
        "messaging.destination.name": ORDERS,
        "messaging.operation.type": "send",
        "rpc.method": "PlaceOrder",
      },
    });
  });

  it("should count publishes by outcome, none left pending, and label the request by AMQP outcome", async () => {
    const res = await gw.call("POST", "/v1/unrouted/eu", {
      body: JSON.stringify({ item: "x" }),
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(503);
    const samples = parseExposition((await gw.call("GET", "/metrics")).text);
    expect(sampleValue(samples, "protogate_amqp_publishes_total", { outcome: "confirmed" })).toBe(1);
    expect(sampleValue(samples, "protogate_amqp_publishes_total", { outcome: "returned" })).toBe(1);
    expect(sampleValue(samples, "protogate_amqp_publishes_pending", { broker: "default" })).toBe(0);
    expect(
      sampleValue(samples, "protogate_http_server_request_duration_seconds_count", {
        route: "/v1/orders/{region}",
        status: "202",
        outcome: "confirmed",
      }),
    ).toBe(1);
    expect(
      sampleValue(samples, "protogate_upstream_request_duration_seconds_count", {
        protocol: "amqp",
        backend: `default/${NOWHERE}`,
        outcome: "UNAVAILABLE",
      }),
    ).toBe(1);
  });
});

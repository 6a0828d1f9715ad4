import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import * as amqp from "amqplib";
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readAuthConfig } from "../../src/policies/auth/config.js";
import { readAmqpConfig } from "../../src/upstream/amqp/config.js";
import { TEST_PROTOS } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { type ScriptedServer, startScriptedServer } from "../helpers/scripted-server.js";
import { skipUnless } from "../helpers/services.js";
import { mappingsDir, SVC } from "./helpers.js";

// Composites whose parts are AMQP rpc bindings: the real RabbitMQ on 127.0.0.1:5672, a consumer of this
// test answering on each request's reply queue (direct reply-to) with its correlation id, beside the
// scripted grpc-js EchoService for the gRPC parts.
const AMQP_PROTOS = fileURLToPath(new URL("../protos-amqp", import.meta.url));
const URL_ = "amqp://guest:guest@127.0.0.1:5672";
const run = randomUUID().slice(0, 8);
const QUOTES = `test.compose.quotes.${run}`;
const QUOTES_Q = `test.compose.quotes.q.${run}`;
const QUOTE = "shop.v1.CommandService.Quote";
const ISSUER = "https://issuer.compose-amqp.test";

const YAML = `
amqp:
  bindings:
    - { selector: ${QUOTE}, exchange: ${QUOTES}, routingKey: quote, mode: rpc, encoding: json, timeout: 2s }
compositions:
  - get: /v1/compose/priced/{s}
    calls:
      - { name: thing, method: ${SVC}.EchoAll, request: { s: path.s } }
      - { name: quote, method: ${QUOTE}, request: { sku: thing.s } }
    output:
      - { key: thing, from: thing.s }
      - { key: price, from: quote.price_cents }
  - get: /v1/compose/quotes
    calls:
      - { name: quotes, method: ${QUOTE}, forEach: query.sku, concurrency: 2, request: { sku: item } }
    output:
      - { key: quotes, from: quotes }
  - get: /v1/compose/optional/{s}
    calls:
      - { name: thing, method: ${SVC}.EchoAll, request: { s: path.s } }
      - { name: maybe, method: ${QUOTE}, required: false, timeout: 300ms, request: { sku: path.s } }
    output:
      - { key: thing, from: thing.s }
      - { key: maybe, from: maybe }
`;

const skip = await skipUnless("rabbitmq", 5672);

let backend: ScriptedServer;
let gw: RunningGateway;
let conn: amqp.ChannelModel;
let worker: amqp.Channel;
/** What the consumer received, in order of arrival. */
const received: Array<{ sku: string; at: number; properties: amqp.MessageProperties }> = [];
let token: string;

beforeAll(async () => {
  if (skip) return;
  conn = await amqp.connect(URL_);
  worker = await conn.createChannel();
  await worker.assertExchange(QUOTES, "topic", { durable: true }); // as the gateway declares it
  await worker.assertQueue(QUOTES_Q, { durable: false, autoDelete: true });
  await worker.bindQueue(QUOTES_Q, QUOTES, "quote");
  await worker.consume(QUOTES_Q, (m) => {
    if (!m) return;
    worker.ack(m);
    const { sku = "" } = JSON.parse(m.content.toString()) as { sku?: string };
    received.push({ sku, at: Date.now(), properties: m.properties });
    if (sku === "slow") return; // never answers
    const reply =
      sku === "missing"
        ? { body: { code: 5, message: "no such sku" }, type: "google.rpc.Status" }
        : { body: { sku, priceCents: String(100 * sku.length) }, type: "shop.v1.QuoteResponse" };
    // The sku's last character sets a small delay, so that answers come back out of order.
    const delay = /\d$/.test(sku) ? 20 * Number(sku.slice(-1)) : 0;
    setTimeout(
      () =>
        worker.sendToQueue(m.properties.replyTo, Buffer.from(JSON.stringify(reply.body)), {
          correlationId: m.properties.correlationId,
          contentType: "application/json",
          type: reply.type,
        }),
      delay,
    );
  });
  const keys = await generateKeyPair("ES256");
  token = await new SignJWT({ sub: "u-amqp" })
    .setProtectedHeader({ alg: "ES256" })
    .setIssuer(ISSUER)
    .setExpirationTime("5m")
    .sign(keys.privateKey);
  backend = await startScriptedServer();
  gw = await startGateway({
    protos: [TEST_PROTOS, AMQP_PROTOS],
    backend: backend.address,
    mappings: mappingsDir(YAML),
    amqp: readAmqpConfig({ confirmTimeout: "3s" }, "amqp"),
    auth: readAuthConfig(
      {
        providers: [
          {
            issuer: ISSUER,
            keys: [{ pem: await exportSPKI(keys.publicKey) }],
            algorithms: ["ES256"],
            forwardClaims: { sub: "x-user-id" },
          },
        ],
        default: "public",
      },
      "auth",
    ),
  });
});
afterAll(async () => {
  await gw?.close();
  await backend?.close();
  if (worker) await worker.deleteQueue(QUOTES_Q).catch(() => undefined);
  if (worker) await worker.deleteExchange(QUOTES).catch(() => undefined);
  await conn?.close().catch(() => undefined);
});
afterEach(() => {
  received.length = 0;
  backend?.calls.splice(0);
});

describe.skipIf(skip)("composite parts bound to AMQP rpc", () => {
  it("should call the rpc binding after the gRPC call it reads, and compose both answers", async () => {
    const r = await gw.call("GET", "/v1/compose/priced/abc", {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(r.status).toBe(200);
    expect(r.text).toBe('{"thing":"abc","price":"300"}');
    // The rpc's request came from the gRPC call's result, so it was sent after that call arrived.
    expect(received.map((m) => m.sku)).toEqual(["abc"]);
    expect(received[0]!.at).toBeGreaterThanOrEqual(backend.calls[0]!.at);
    // Every part carries the caller's claims and the request id: gRPC metadata, AMQP message headers.
    const requestId = r.headers.get("x-request-id");
    expect(backend.calls[0]!.metadata).toMatchObject({ "x-user-id": "u-amqp", "x-request-id": requestId });
    const props = received[0]!.properties;
    expect(props.headers).toMatchObject({ "x-user-id": "u-amqp", "x-request-id": requestId });
    expect(props.replyTo).toMatch(/^amq\.rabbitmq\.reply-to/);
    expect(props.correlationId).toEqual(expect.any(String));
  });

  it("should fan out over rpc calls and keep the answers in the order asked", async () => {
    const r = await gw.call("GET", "/v1/compose/quotes?sku=a3&sku=b2&sku=c1&sku=d0");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      quotes: [
        { sku: "a3", priceCents: "200" },
        { sku: "b2", priceCents: "200" },
        { sku: "c1", priceCents: "200" },
        { sku: "d0", priceCents: "200" },
      ],
    });
    expect(received.map((m) => m.sku).sort()).toEqual(["a3", "b2", "c1", "d0"]);
    // One correlation id per rpc call.
    expect(new Set(received.map((m) => m.properties.correlationId)).size).toBe(4);
  });

  it("should answer partially when an optional rpc call gets no reply in its time", async () => {
    const r = await gw.call("GET", "/v1/compose/optional/slow");
    expect(r.status).toBe(200);
    expect(r.headers.get("protogate-partial")).toBe("true");
    expect(r.body).toEqual({
      thing: "slow",
      errors: [
        {
          call: "maybe",
          field: "maybe",
          code: 4,
          message: expect.stringMatching(/^the service did not answer in time/),
          details: [],
        },
      ],
    });
    expect(received.map((m) => m.sku)).toEqual(["slow"]);
  });

  it("should answer a required rpc call's error reply with its mapped status", async () => {
    const r = await gw.call("GET", "/v1/compose/priced/missing");
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ code: 5, message: "no such sku", details: [] });
  });
});

import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as amqp from "amqplib";
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeMessage, encodeMessage } from "../../src/codec/index.js";
import { readAuthConfig } from "../../src/policies/auth/config.js";
import { loadConfig } from "../../src/server/load-table.js";
import { readAmqpConfig } from "../../src/upstream/amqp/config.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { skipUnless } from "../helpers/services.js";
import { closeConnectionsNamed, gatewayConnectionName } from "./close-connections.js";

/** Command and RPC endpoints against the real RabbitMQ on 127.0.0.1:5672. */
const PROTOS = fileURLToPath(new URL("../protos-amqp", import.meta.url));
const URL_ = "amqp://guest:guest@127.0.0.1:5672";
const run = randomUUID().slice(0, 8);
const ORDERS = `test.orders.${run}`;
const QUOTES = `test.quotes.${run}`;
const NOWHERE = `test.nowhere.${run}`;
const RESULTS = `test.results.${run}`;
const ORDERS_Q = `test.orders.q.${run}`;
const QUOTES_Q = `test.quotes.q.${run}`;

const skip = await skipUnless("rabbitmq", 5672);
const types = loadConfig({ protos: [PROTOS] }).registry;
const message = (name: string) => types.findMessage(name)!;

let gw: RunningGateway;
let conn: amqp.ChannelModel;
let ch: amqp.Channel;

beforeAll(async () => {
  if (skip) return;
  const mappings = mkdtempSync(join(tmpdir(), "protogate-amqp-"));
  writeFileSync(
    join(mappings, "amqp.yaml"),
    [
      "amqp:",
      "  bindings:",
      `    - { selector: shop.v1.CommandService.PlaceOrder, exchange: ${ORDERS}, routingKey: "orders.{region}.place", headers: { x-source: gateway } }`,
      `    - { selector: shop.v1.CommandService.Quote, exchange: ${QUOTES}, routingKey: "quote", mode: rpc, encoding: json, timeout: 1s }`,
      `    - { selector: shop.v1.CommandService.Unrouted, exchange: ${NOWHERE}, routingKey: "x" }`,
    ].join("\n"),
  );
  conn = await amqp.connect(URL_);
  ch = await conn.createChannel();
  for (const [ex, q, key] of [
    [ORDERS, ORDERS_Q, "orders.#"],
    [QUOTES, QUOTES_Q, "quote"],
  ] as const) {
    await ch.assertExchange(ex, "topic", { durable: true });
    await ch.assertQueue(q, { durable: true });
    await ch.bindQueue(q, ex, key);
  }
  gw = await startGateway({
    protos: [PROTOS],
    mappings,
    amqp: readAmqpConfig(
      { confirmTimeout: "3s", operations: { resultsExchange: RESULTS, resultsQueue: `${RESULTS}.q` } },
      "amqp",
    ),
  });
});
afterAll(async () => {
  await gw?.close();
  if (ch) {
    for (const q of [
      ORDERS_Q,
      QUOTES_Q,
      ...["", "-r", "-o-memory", "-o-redis"].map((s) => `${RESULTS}${s}.q`),
    ])
      await ch.deleteQueue(q).catch(() => undefined);
    for (const ex of [
      ORDERS,
      QUOTES,
      NOWHERE,
      RESULTS,
      `${RESULTS}-r`,
      `${RESULTS}-o-memory`,
      `${RESULTS}-o-redis`,
    ])
      await ch.deleteExchange(ex).catch(() => undefined);
  }
  await conn?.close().catch(() => undefined);
});

/** The next message on a queue (polling basic.get), or undefined after a while. */
async function next(queue: string, channel = ch, waitMs = 3000): Promise<amqp.GetMessage | undefined> {
  const until = Date.now() + waitMs;
  while (Date.now() < until) {
    const m = await channel.get(queue, { noAck: true });
    if (m) return m;
    await new Promise((r) => setTimeout(r, 25));
  }
  return undefined;
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  gw.call("POST", path, {
    body: JSON.stringify(body),
    headers: { "content-type": "application/json", ...headers },
  });

/** A mappings directory that binds PlaceOrder alone, to the orders exchange. */
function ordersMappings(): string {
  const dir = mkdtempSync(join(tmpdir(), "protogate-amqp-orders-"));
  writeFileSync(
    join(dir, "amqp.yaml"),
    `amqp:\n  bindings:\n    - { selector: shop.v1.CommandService.PlaceOrder, exchange: ${ORDERS}, routingKey: "orders.{region}.place" }\n`,
  );
  return dir;
}

/** A token issuer for a gateway that requires one: its auth config, and a bearer header per subject. */
async function testIssuer(forwardClaims?: Record<string, string>) {
  const keys = await generateKeyPair("ES256");
  const provider = {
    issuer: "https://i.test",
    keys: [{ pem: await exportSPKI(keys.publicKey) }],
    algorithms: ["ES256"],
  };
  return {
    auth: readAuthConfig(
      { providers: [{ ...provider, ...(forwardClaims ? { forwardClaims } : {}) }], default: "authenticated" },
      "auth",
    ),
    bearer: async (sub: string) => ({
      authorization: `Bearer ${await new SignJWT({ sub })
        .setProtectedHeader({ alg: "ES256" })
        .setIssuer("https://i.test")
        .setExpirationTime("5m")
        .sign(keys.privateKey)}`,
    }),
  };
}

describe.skipIf(skip)("command endpoints", () => {
  it("should answer 202 only after the broker confirmed, with the message fully described", async () => {
    const res = await post(
      "/v1/orders/eu",
      { item: "book", quantity: 2 },
      { "idempotency-key": `k-${run}-1`, "x-request-id": "req-1" },
    );
    expect(res.status).toBe(202);
    const op = res.body as { name: string; done: boolean; metadata: { value: { method: string } } };
    expect(op.name).toMatch(/^operations\/[0-9a-f-]{36}$/);
    expect(op.done).toBe(false);
    expect(op.metadata.value.method).toBe("shop.v1.CommandService.PlaceOrder");
    expect(res.headers.get("location")).toBe(`/v1/${op.name}`);

    const m = (await next(ORDERS_Q))!;
    expect(m.fields.routingKey).toBe("orders.eu.place");
    expect(m.properties).toMatchObject({
      deliveryMode: 2,
      messageId: `k-${run}-1`,
      correlationId: op.name.slice("operations/".length),
      contentType: "application/x-protobuf",
      type: "shop.v1.PlaceOrderRequest",
      appId: "protogate",
    });
    expect(m.properties.headers).toMatchObject({
      "x-request-id": "req-1",
      "x-source": "gateway",
      "x-grpc-method": "/shop.v1.CommandService/PlaceOrder",
    });
    expect(Math.abs(m.properties.timestamp - Date.now() / 1000)).toBeLessThan(60);
    expect(decodeMessage(message("shop.v1.PlaceOrderRequest"), m.content)).toMatchObject({
      region: "eu",
      item: "book",
      quantity: 2,
    });
  });

  it("should record the worker's result on the operation", async () => {
    const res = await post("/v1/orders/us", { item: "pen", quantity: 1 });
    const id = (res.body as { name: string }).name.slice("operations/".length);
    const m = (await next(ORDERS_Q))!;
    expect(m.properties.correlationId).toBe(id);
    // the worker answers on the results exchange, correlated by the operation id
    ch.publish(
      RESULTS,
      "done",
      Buffer.from(
        encodeMessage(message("shop.v1.PlaceOrderResponse"), { order_id: "o-1", total_cents: 1999 }),
      ),
      {
        correlationId: id,
        type: "shop.v1.PlaceOrderResponse",
        contentType: "application/x-protobuf",
      },
    );
    await expect
      .poll(async () => (await gw.call("GET", `/v1/operations/${id}`)).body, { timeout: 3000 })
      .toEqual({
        name: `operations/${id}`,
        done: true,
        metadata: expect.anything(),
        response: {
          "@type": "type.googleapis.com/shop.v1.PlaceOrderResponse",
          orderId: "o-1",
          totalCents: "1999",
        },
      });
  });

  it("should show a worker's progress reports until the result comes", async () => {
    const res = await post("/v1/orders/us", { item: "slow" });
    const id = (res.body as { name: string }).name.slice("operations/".length);
    await next(ORDERS_Q);
    ch.publish(RESULTS, "progress", Buffer.from(JSON.stringify({ percent: 40 })), {
      correlationId: id,
      headers: { "x-progress": true },
    });
    await expect
      .poll(async () => (await gw.call("GET", `/v1/operations/${id}`)).body, { timeout: 3000 })
      .toMatchObject({ done: false, metadata: { value: { progress: { percent: 40 } } } });
  });

  it("should answer 503 with Retry-After when the broker cannot be reached", async () => {
    const dir = mkdtempSync(join(tmpdir(), "protogate-amqp-down-"));
    writeFileSync(
      join(dir, "amqp.yaml"),
      `amqp:\n  bindings:\n    - { selector: shop.v1.CommandService.PlaceOrder, exchange: ${ORDERS} }\n`,
    );
    const down = await startGateway({
      protos: [PROTOS],
      mappings: dir,
      amqp: readAmqpConfig(
        { brokers: { default: "amqp://guest:guest@127.0.0.1:1" }, confirmTimeout: "300ms" },
        "amqp",
      ),
    });
    try {
      const res = await down.call("POST", "/v1/orders/eu", { body: '{"item":"x"}' });
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("1");
      // the broker's name and address stay in the log (#21.6)
      expect(res.body).toMatchObject({
        code: 14,
        message: expect.stringMatching(/^the service is unavailable, try again later \(request [\w-]+\)$/),
      });
      expect((await down.call("GET", "/_protogate/ready")).status).toBe(503);
    } finally {
      await down.close();
    }
  });

  it("should record a worker's error as the operation's error", async () => {
    const res = await post("/v1/orders/us", { item: "none" });
    const id = (res.body as { name: string }).name.slice("operations/".length);
    await next(ORDERS_Q);
    ch.publish(RESULTS, "done", Buffer.from(JSON.stringify({ code: 9, message: "out of stock" })), {
      correlationId: id,
      type: "google.rpc.Status",
      contentType: "application/json",
    });
    await expect
      .poll(async () => (await gw.call("GET", `/v1/operations/${id}`)).body, { timeout: 3000 })
      .toMatchObject({ done: true, error: { code: 9, message: "out of stock" } });
  });

  it("should return the same operation for a repeated Idempotency-Key, and publish nothing", async () => {
    const key = { "idempotency-key": `k-${run}-2` };
    const first = await post("/v1/orders/eu", { item: "x" }, key);
    await next(ORDERS_Q);
    const second = await post("/v1/orders/eu", { item: "x" }, key);
    expect(second.status).toBe(202);
    expect((second.body as { name: string }).name).toBe((first.body as { name: string }).name);
    expect(await next(ORDERS_Q, ch, 500)).toBeUndefined();
  });

  it("should answer 503, not 202, when no queue takes the message", async () => {
    const res = await post("/v1/unrouted/eu", { item: "x" });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({
      code: 14, // exchange and routing key stay in the log (#21.6)
      message: expect.stringMatching(/^the service is unavailable, try again later \(request [\w-]+\)$/),
    });
  });

  it("should take a binding from the (protogate.v1.amqp) proto option", async () => {
    const q = `test.po.q.${run}`;
    await ch.assertExchange("test.protogate.option", "topic", { durable: true });
    await ch.assertQueue(q, { durable: false, autoDelete: true });
    await ch.bindQueue(q, "test.protogate.option", "po.#");
    const res = await post("/v1/po/eu", { item: "x" });
    expect(res.status).toBe(202);
    const m = (await next(q))!;
    expect(m.fields.routingKey).toBe("po.eu");
    expect(m.properties.headers).toMatchObject({ "x-bound-by": "option" });
  });

  it("should send the caller's forwarded claims as message headers", async () => {
    const issuer = await testIssuer({ sub: "x-user-id" });
    const authed = await startGateway({
      protos: [PROTOS],
      mappings: ordersMappings(),
      amqp: readAmqpConfig(
        { operations: { resultsExchange: RESULTS, resultsQueue: `${RESULTS}.q` } },
        "amqp",
      ),
      auth: issuer.auth,
    });
    try {
      const res = await authed.call("POST", "/v1/orders/eu", {
        body: '{"item":"x"}',
        headers: { ...(await issuer.bearer("u-7")), "grpc-metadata-x-user-id": "spoof" },
      });
      expect(res.status).toBe(202);
      expect((await next(ORDERS_Q))!.properties.headers).toMatchObject({ "x-user-id": "u-7" });
    } finally {
      await authed.close();
    }
  });

  it("should answer 404 for an unknown operation", async () => {
    expect((await gw.call("GET", `/v1/operations/${randomUUID()}`)).status).toBe(404);
  });
});

describe.skipIf(skip)("RPC endpoints", () => {
  let worker: amqp.Channel;
  beforeAll(async () => {
    if (skip) return;
    worker = await conn.createChannel();
    await worker.consume(QUOTES_Q, (m) => {
      if (!m) return;
      worker.ack(m);
      const { sku } = JSON.parse(m.content.toString()) as { sku: string };
      if (sku === "slow") return; // never answers
      const reply =
        sku === "missing"
          ? { body: { code: 5, message: "no such sku" }, type: "google.rpc.Status" }
          : { body: { sku, priceCents: "1250" }, type: "shop.v1.QuoteResponse" };
      worker.sendToQueue(m.properties.replyTo, Buffer.from(JSON.stringify(reply.body)), {
        correlationId: m.properties.correlationId,
        contentType: "application/json",
        type: reply.type,
      });
    });
  });

  it.each([
    ["a reply", "abc", 200, { sku: "abc", priceCents: "1250" }],
    [
      "an error reply, mapped like a gRPC status",
      "missing",
      404,
      { code: 5, message: "no such sku", details: [] },
    ],
    [
      "no reply in time",
      "slow",
      504,
      {
        code: 4,
        message: expect.stringMatching(/^the service did not answer in time \(request [\w-]+\)$/),
        details: [],
      },
    ],
  ])("should answer %s", async (_name, sku, status, body) => {
    const res = await gw.call("GET", `/v1/quotes/${sku}`);
    expect(res.status).toBe(status);
    expect(res.body).toEqual(body);
  });
});

describe.skipIf(skip)("broker faults", () => {
  it("should answer every request either 202-and-delivered or an error when connections are killed", async () => {
    const accepted = new Set<string>();
    let errors = 0;
    let stop = false;
    const loops = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const res = await post("/v1/orders/fault", { item: `w${w}-${i}` });
        if (res.status === 202) accepted.add((res.body as { name: string }).name.slice("operations/".length));
        else {
          expect(res.status).toBe(503);
          errors++;
        }
      }
    });
    await new Promise((r) => setTimeout(r, 400));
    // only the gateway's own connection: the broker is shared with other programs
    expect(await closeConnectionsNamed(gatewayConnectionName(), "protogate fault test")).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    await Promise.all(loops);
    expect(accepted.size).toBeGreaterThan(20);
    // the gateway reconnected by itself
    await expect
      .poll(async () => (await gw.call("GET", "/_protogate/ready")).status, { timeout: 10_000 })
      .toBe(200);
    // every 202 was delivered: drain the durable queue with a fresh connection (the old one was closed)
    const c2 = await amqp.connect(URL_);
    const ch2 = await c2.createChannel();
    const delivered = new Set<string>();
    for (let m = await next(ORDERS_Q, ch2, 1000); m; m = await next(ORDERS_Q, ch2, 1000)) {
      delivered.add(String(m.properties.correlationId));
    }
    await c2.close();
    const lost = [...accepted].filter((id) => !delivered.has(id));
    expect(lost).toEqual([]);
    console.log(
      `fault test: ${accepted.size} accepted, ${errors} refused, ${delivered.size} delivered (duplicates allowed)`,
    );
  });
});

describe.skipIf(skip)("operations of authenticated callers are theirs alone", async () => {
  const noRedis = await skipUnless("redis", 6379);
  const stores: Array<["memory" | "redis", boolean]> = [
    ["memory", false],
    ["redis", noRedis],
  ];
  for (const [store, off] of stores)
    it.skipIf(off)(
      `in the ${store} store: only the caller sees it, and Idempotency-Keys are per caller`,
      async () => {
        const issuer = await testIssuer();
        const results = `${RESULTS}-o-${store}`;
        const authed = await startGateway({
          protos: [PROTOS],
          mappings: ordersMappings(),
          amqp: readAmqpConfig(
            {
              operations: {
                store,
                ...(store === "redis" ? { redis: { url: "redis://127.0.0.1:6379" } } : {}),
                resultsExchange: results,
                resultsQueue: `${results}.q`,
              },
            },
            "amqp",
          ),
          auth: issuer.auth,
        });
        const as = issuer.bearer;
        const order = async (sub: string) =>
          authed.call("POST", "/v1/orders/eu", {
            body: '{"item":"x"}',
            headers: {
              "content-type": "application/json",
              "idempotency-key": `same-${run}-${store}`,
              ...(await as(sub)),
            },
          });
        try {
          const mine = await order("u-7");
          expect(mine.status).toBe(202);
          expect(mine.body).not.toHaveProperty("owner");
          const id = (mine.body as { name: string }).name.slice("operations/".length);
          const get = async (headers: Record<string, string>) =>
            authed.call("GET", `/v1/operations/${id}`, { headers });
          expect((await get(await as("u-7"))).status).toBe(200);
          expect((await get(await as("u-7"))).body).not.toHaveProperty("owner");
          expect((await get(await as("u-8"))).status).toBe(404); // as if it did not exist
          expect((await get({})).status).toBe(401);
          // the same key from someone else is someone else's request
          const theirs = await order("u-8");
          expect(theirs.status).toBe(202);
          expect((theirs.body as { name: string }).name).not.toBe(`operations/${id}`);
          expect((await order("u-7")).body).toMatchObject({ name: `operations/${id}` });
          await next(ORDERS_Q);
          await next(ORDERS_Q);
          expect(await next(ORDERS_Q, ch, 300)).toBeUndefined(); // two messages: one per caller
          // the owner stays with the operation when the worker's result is recorded
          ch.publish(results, "done", Buffer.from(JSON.stringify({ orderId: "o-5" })), {
            correlationId: id,
            type: "shop.v1.PlaceOrderResponse",
            contentType: "application/json",
          });
          await expect
            .poll(async () => (await get(await as("u-7"))).body, { timeout: 3000 })
            .toMatchObject({ done: true, response: { orderId: "o-5" } });
          expect((await get(await as("u-8"))).status).toBe(404);
        } finally {
          await authed.close();
        }
      },
    );
});

describe.skipIf(skip)("operations after a reconfigure", () => {
  it("are checked with the auth config in force: a rotated issuer key takes effect", async () => {
    const before = await testIssuer();
    const after = await testIssuer();
    const results = `${RESULTS}-o-reconf`;
    const options = {
      protos: [PROTOS],
      mappings: ordersMappings(),
      amqp: readAmqpConfig(
        { operations: { resultsExchange: results, resultsQueue: `${results}.q` } },
        "amqp",
      ),
    };
    const authed = await startGateway({ ...options, auth: before.auth });
    try {
      const placed = await authed.call("POST", "/v1/orders/eu", {
        body: '{"item":"x"}',
        headers: { "content-type": "application/json", ...(await before.bearer("u-1")) },
      });
      expect(placed.status).toBe(202);
      await next(ORDERS_Q);
      const path = `/v1/${(placed.body as { name: string }).name}`;
      expect((await authed.call("GET", path, { headers: await before.bearer("u-1") })).status).toBe(200);
      const running = { ...options, port: 0, logLevel: false as const };
      expect(await authed.gateway.reconfigure({ ...running, auth: after.auth })).toBe(true);
      // the old key no longer proves who the caller is; the new one does
      expect((await authed.call("GET", path, { headers: await before.bearer("u-1") })).status).toBe(401);
      expect((await authed.call("GET", path, { headers: await after.bearer("u-1") })).status).toBe(200);
    } finally {
      await authed.close();
    }
  });
});

describe.skipIf(skip)("operations in Redis, shared by gateway instances", async () => {
  const noRedis = await skipUnless("redis", 6379);

  it.skipIf(noRedis)(
    "should let any instance answer for an operation and honour the same Idempotency-Key",
    async () => {
      const mappings = ordersMappings();
      const config = readAmqpConfig(
        {
          operations: {
            store: "redis",
            redis: { url: "redis://127.0.0.1:6379" },
            // their own results queue: instances that share one must share the operation store
            resultsExchange: `${RESULTS}-r`,
            resultsQueue: `${RESULTS}-r.q`,
          },
        },
        "amqp",
      );
      const a = await startGateway({ protos: [PROTOS], mappings, amqp: config });
      const b = await startGateway({ protos: [PROTOS], mappings, amqp: config });
      try {
        const key = { "content-type": "application/json", "idempotency-key": `shared-${run}` };
        const first = await a.call("POST", "/v1/orders/eu", { body: '{"item":"x"}', headers: key });
        expect(first.status).toBe(202);
        const name = (first.body as { name: string }).name;
        const id = name.slice("operations/".length);
        expect((await b.call("GET", `/v1/operations/${id}`)).body).toMatchObject({ name, done: false });
        const again = await b.call("POST", "/v1/orders/eu", { body: '{"item":"x"}', headers: key });
        expect((again.body as { name: string }).name).toBe(name);
        await next(ORDERS_Q);
        expect(await next(ORDERS_Q, ch, 500)).toBeUndefined(); // published once
        ch.publish(`${RESULTS}-r`, "done", Buffer.from(JSON.stringify({ orderId: "o-9" })), {
          correlationId: id,
          type: "shop.v1.PlaceOrderResponse",
          contentType: "application/json",
        });
        for (const gw of [a, b]) {
          await expect
            .poll(async () => (await gw.call("GET", `/v1/operations/${id}`)).body, { timeout: 3000 })
            .toMatchObject({ done: true, response: { orderId: "o-9" } });
        }
      } finally {
        await a.close();
        await b.close();
      }
    },
  );
});

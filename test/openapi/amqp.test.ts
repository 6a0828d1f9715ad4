import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import * as amqp from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAmqpConfig } from "../../src/upstream/amqp/config.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { skipUnless } from "../helpers/services.js";
import { documentIssuer } from "./issuer.js";
import { type Operation, type Paths, swaggerRequest, templateProblems } from "./swagger.js";

/**
 * The document of a gateway with AMQP bindings: commands answer 202 with an Operation and its Location,
 * and GET /v1/operations/{id} is documented; both checked against real answers (RabbitMQ on 5672).
 */
const PROTOS = fileURLToPath(new URL("../protos-amqp", import.meta.url));
const run = randomUUID().slice(0, 8);
const ORDERS = `test.openapi.orders.${run}`;
const ORDERS_Q = `test.openapi.orders.q.${run}`;
const RESULTS = `test.openapi.results.${run}`;

const skip = await skipUnless("rabbitmq", 5672);
type Doc = { paths: Paths; components: { schemas: Record<string, unknown> } };

let gw: RunningGateway;
let conn: amqp.ChannelModel;
let ch: amqp.Channel;
let doc: Doc;
let sign: (scopes: string[]) => Promise<string>;

beforeAll(async () => {
  if (skip) return;
  const mappings = mkdtempSync(join(tmpdir(), "protogate-openapi-amqp-"));
  writeFileSync(
    join(mappings, "amqp.yaml"),
    [
      "amqp:",
      "  bindings:",
      `    - { selector: shop.v1.CommandService.PlaceOrder, exchange: ${ORDERS}, routingKey: "orders.{region}" }`,
      `    - { selector: shop.v1.CommandService.Quote, exchange: ${ORDERS}, routingKey: "quote", mode: rpc }`,
    ].join("\n"),
  );
  conn = await amqp.connect("amqp://guest:guest@127.0.0.1:5672");
  ch = await conn.createChannel();
  await ch.assertExchange(ORDERS, "topic", { durable: true });
  await ch.assertQueue(ORDERS_Q, { durable: true });
  await ch.bindQueue(ORDERS_Q, ORDERS, "orders.#");
  const issuer = await documentIssuer();
  sign = issuer.sign;
  gw = await startGateway({
    protos: [PROTOS],
    mappings,
    amqp: readAmqpConfig({ operations: { resultsExchange: RESULTS, resultsQueue: `${RESULTS}.q` } }, "amqp"),
    auth: issuer.auth,
  });
  doc = (await (await fetch(`${gw.url}/openapi.json`)).json()) as Doc;
});
afterAll(async () => {
  await gw?.close();
  if (ch) {
    await ch.deleteQueue(ORDERS_Q).catch(() => undefined);
    for (const ex of [ORDERS, RESULTS]) await ch.deleteExchange(ex).catch(() => undefined);
  }
  await conn?.close().catch(() => undefined);
});

/** A validator of a schema of the document (its $refs point into components). */
function validatorOf(schema: unknown) {
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  return ajv.compile({ ...(schema as object), components: doc.components });
}

const jsonSchema = (op: Operation, status: string) =>
  op.responses[status]!.content!["application/json"]!.schema;

describe.skipIf(skip)("the document of AMQP methods", () => {
  it("should be a valid OpenAPI 3.1 document", async () => {
    const result = await new Validator().validate(doc as unknown as Parameters<Validator["validate"]>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(templateProblems(doc.paths)).toEqual([]);
  });

  it("should document commands as 202 + Operation + Location, rpc methods as 200 + their response", () => {
    const command = doc.paths["/v1/orders/{region}"]!.post!;
    expect(Object.keys(command.responses).sort()).toEqual(["202", "default"]);
    expect(command.responses["202"]!.headers).toHaveProperty("Location");
    expect(command.parameters.map((p) => `${p.in}:${p.name}`)).toContain("header:Idempotency-Key");
    const rpc = doc.paths["/v1/quotes/{sku}"]!.get!;
    expect(Object.keys(rpc.responses).sort()).toEqual(["200", "default"]);
    expect(jsonSchema(rpc, "200")).toEqual({ $ref: "#/components/schemas/shop.v1.QuoteResponse" });
  });

  it("should document GET /v1/operations/{id}, a token optional", () => {
    const get = doc.paths["/v1/operations/{id}"]!.get!;
    expect(get.parameters.map((p) => p.name)).toEqual(["id"]);
    expect(get.security).toEqual([{}, { bearerAuth: [] }]);
  });

  it("should describe what a command and its operation really answer", async () => {
    const command = doc.paths["/v1/orders/{region}"]!.post!;
    const req = await swaggerRequest(gw.url, "/v1/orders/{region}", "post", command, sign);
    const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
    expect(res.status).toBe(202);
    const accepted = await res.json();
    const check202 = validatorOf(jsonSchema(command, "202"));
    expect(check202(accepted), JSON.stringify(check202.errors)).toBe(true);

    // Try it out on the documented operations path, with the id from Location
    const location = res.headers.get("location")!;
    expect(location).toMatch(/^\/v1\/operations\/[0-9a-f-]{36}$/);
    const get = doc.paths["/v1/operations/{id}"]!.get!;
    const poll = await swaggerRequest(gw.url, "/v1/operations/{id}", "get", get, sign);
    const url = poll.url.replace(/\/v1\/operations\/.*$/, location);
    const op = await fetch(url, { headers: poll.headers });
    expect(op.status).toBe(200);
    const body = await op.json();
    const check200 = validatorOf(jsonSchema(get, "200"));
    expect(check200(body), JSON.stringify(check200.errors)).toBe(true);
    expect(body).toMatchObject({ name: location.slice("/v1/".length), done: false });
  });
});

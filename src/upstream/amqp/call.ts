import { randomUUID } from "node:crypto";
import { type Msg, messageToJson, typeUrlOf } from "../../codec/index.js";
import { Code } from "../../errors/code.js";
import { concealed } from "../../errors/conceal.js";
import { GatewayError } from "../../errors/gateway-error.js";
import type { Route } from "../../routing/route.js";
import { renderJson } from "../../transcode/response.js";
import { ENCODED_OFFSET, type UpstreamCall, type UpstreamResult } from "../call.js";
import type { UnaryTarget } from "../target.js";
import type { AmqpBrokers } from "./brokers.js";
import type { AmqpBinding } from "./config.js";
import { confirmDeadline, replyTimeoutMs } from "./deadline.js";
import { messageProperties } from "./metadata.js";
import { type Operation, served } from "./operations.js";
import { decodeReply, errorFromWorker } from "./status.js";

// The type Fastify sends for a JSON text, given whole: told only "application/json", Fastify appends
// "; charset=utf-8" per reply, and Node's header check takes a slow path on the concatenated string.
const JSON_TYPE = "application/json; charset=utf-8";
const NO_HEADERS = Object.freeze({});

/**
 * The target of a route bound to RabbitMQ (a mapping file's `amqp: bindings:` or the method's
 * `(protogate.v1.amqp)` option):
 * - command: publish (confirmed, routed, persistent), answer 202 + a google.longrunning.Operation with
 *   `Location: /v1/operations/{id}`; the worker's result is recorded when it comes back (results.ts);
 * - rpc: request/reply over direct reply-to, answered like a gRPC call.
 * The broker named by the binding is looked up per call, so a binding to an unknown broker answers 503.
 */
export function amqpTarget(brokers: AmqpBrokers, binding: AmqpBinding): UnaryTarget {
  const run = binding.mode === "rpc" ? rpc : command;
  return {
    kind: `amqp-${binding.mode}`,
    protocol: "amqp",
    upstream: `${binding.broker}/${binding.exchange}`,
    shape: "unary",
    invoke(call, done) {
      call.notes.backend = binding.broker;
      run(brokers, binding, call).then(
        (result) => done(undefined, result),
        (err: unknown) => {
          const e = GatewayError.from(err);
          // a worker's own status is its answer; anything else happened on the way (broker, store)
          done(fromWorker.has(e) ? e : concealed(e, call.requestId), undefined);
        },
      );
      // A published message cannot be taken back; an rpc's reply is dropped when it comes.
      return noop;
    },
  };
}

function noop(): void {}

/** Errors that are a worker's own answer (google.rpc.Status replies): shown to the client as they are. */
const fromWorker = new WeakSet<GatewayError>();

async function command(
  brokers: AmqpBrokers,
  binding: AmqpBinding,
  call: UpstreamCall,
): Promise<UpstreamResult> {
  const broker = await brokers.ready(binding);
  const id = randomUUID();
  const op: Operation = {
    name: `operations/${id}`,
    done: false,
    metadata: {
      "@type": typeUrlOf("google.protobuf.Struct"),
      value: { method: call.route.method.fullName, createTime: new Date().toISOString() },
    },
    ...(call.principal === undefined ? {} : { owner: call.principal }),
  };
  const key = call.idempotencyKey;
  const idempotencyKey = key ? scopedKey(call.route.method.fullName, key, call.principal) : undefined;
  const created = await brokers.operations.create(op, idempotencyKey).catch((err: unknown) => {
    throw new GatewayError(Code.UNAVAILABLE, "the operation store is unavailable", {
      headers: { "retry-after": "1" },
      cause: err,
    });
  });
  if (!created.existing) {
    try {
      await broker.publish(
        binding.exchange,
        routingKey(binding.routingKey, call.message),
        content(binding, call),
        { ...messageProperties(call, binding, id), persistent: true },
        confirmDeadline(brokers.confirmTimeoutMs),
      );
    } catch (err) {
      // never a 202, nor an operation, for a message the broker did not take
      await brokers.operations.discard(id, idempotencyKey).catch(() => undefined);
      throw err;
    }
  }
  call.notes.outcome = created.existing ? "deduplicated" : "confirmed";
  return {
    httpStatus: 202,
    headers: { location: `/v1/${created.op.name}` },
    body: { contentType: JSON_TYPE, bytes: served(created.op) },
  };
}

async function rpc(brokers: AmqpBrokers, binding: AmqpBinding, call: UpstreamCall): Promise<UpstreamResult> {
  const broker = await brokers.ready(binding);
  const route: Route = call.route;
  const reply = await broker.call(
    binding.exchange,
    routingKey(binding.routingKey, call.message),
    content(binding, call),
    messageProperties(call, binding, randomUUID()),
    replyTimeoutMs(call, binding),
  );
  const result = decodeReply(route.method.output, reply, route.read.resolve);
  if ("error" in result) {
    const err = errorFromWorker(result.error);
    fromWorker.add(err);
    throw err;
  }
  call.notes.outcome = "replied";
  return {
    httpStatus: 200,
    headers: NO_HEADERS,
    body: {
      contentType: JSON_TYPE,
      bytes: renderJson(route, result.msg), // an answer that cannot be rendered is a 500, not a 400
    },
  };
}

/** The message body in the binding's encoding: proto3 JSON with the route's options, or binary. */
function content(binding: AmqpBinding, call: UpstreamCall): Buffer {
  if (binding.encoding === "json")
    return Buffer.from(
      JSON.stringify(messageToJson(call.route.method.input, call.message, call.route.write)),
    );
  return call.encoded.subarray(ENCODED_OFFSET);
}

/**
 * An Idempotency-Key is the caller's own: two callers sending "abc" get two operations. Anonymous keys
 * are "method:key" (a method name has a dot before any colon); an owner's are "owner:\"owner\":method:key"
 * (JSON quotes the owner), so no key a client chooses can land in another caller's space.
 */
function scopedKey(method: string, given: string, owner: string | undefined): string {
  return owner === undefined ? `${method}:${given}` : `owner:${JSON.stringify(owner)}:${method}:${given}`;
}

/** `orders.{region}.create` with the request's fields (dotted proto names); unset fields give "". */
export function routingKey(template: string, msg: Msg): string {
  return template.replace(/\{([A-Za-z_][\w.]*)\}/g, (_, path: string) => {
    let value: unknown = msg;
    for (const part of path.split(".")) value = (value as Msg | undefined)?.[part];
    return value === undefined || typeof value === "object" ? "" : String(value);
  });
}

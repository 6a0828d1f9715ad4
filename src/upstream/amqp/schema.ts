import { duration, type JsonSchema, mapOf, object, oneOf, text } from "../../config/schema-kit.js";

/** JSON Schema fragments of the config file's `amqp:` and of the mapping files' `amqp.bindings`. */

export const EXCHANGE_TYPES = ["topic", "direct", "fanout", "headers"] as const;
export const MODES = ["command", "rpc"] as const;
export const ENCODINGS = ["proto", "json"] as const;

/** The config file's `amqp:`. */
export const amqpSchema: JsonSchema = object("RabbitMQ brokers and operations, for methods bound to AMQP.", {
  brokers: mapOf(
    'Broker URLs by name; "default" is used by bindings that name none.',
    text("An AMQP URL (amqp://user:password@host:5672/vhost)."),
    { default: { default: "amqp://guest:guest@127.0.0.1:5672" } },
  ),
  operations: object("Where the operations of command-mode requests are kept.", {
    store: oneOf("memory (per instance) or redis (shared by every instance).", ["memory", "redis"], "memory"),
    redis: object("The Redis store.", { url: text("Redis URL.", { default: "redis://127.0.0.1:6379" }) }),
    ttl: duration("How long an operation (and an Idempotency-Key) is kept.", {
      positive: true,
      default: "24h",
    }),
    resultsExchange: text("Workers publish results here, correlation_id = operation id.", {
      default: "protogate.results",
    }),
    resultsQueue: text("The queue the gateway reads results from.", { default: "protogate.results" }),
  }),
  confirmTimeout: duration("How long a request waits for the broker's confirm (and a republish).", {
    positive: true,
    default: "5s",
  }),
});

/** One mapping-file binding (also the shape a protogate.v1.amqp option is checked against). */
export const amqpBindingSchema: JsonSchema = object(
  "A method sent to a broker instead of a gRPC backend.",
  {
    selector: text("The method: pkg.Service.Method."),
    broker: text("A name from the config file's amqp.brokers.", { default: "default" }),
    exchange: text("The exchange (declared durable by the gateway)."),
    exchangeType: oneOf("The exchange's type.", EXCHANGE_TYPES, "topic"),
    routingKey: {
      description: "Routing key; request fields (dotted proto names) fill the braces: orders.{region}.place.",
      type: "string",
      default: "",
    },
    mode: oneOf(
      "command: 202 + an operation; rpc: request/reply, the reply is the answer.",
      MODES,
      "command",
    ),
    encoding: oneOf("proto: application/x-protobuf; json: proto3 JSON.", ENCODINGS, "proto"),
    headers: mapOf("Headers added to every message.", text("A header value.")),
    timeout: duration("rpc: how long to wait for the reply (504 after).", { positive: true, default: "10s" }),
  },
  {
    required: ["selector", "exchange"],
    errorMessage: { required: "a binding needs a selector and an exchange" },
  },
);

/** The mapping files' `amqp.bindings`. */
export const amqpBindingsSchema: JsonSchema = {
  description: "Bindings of methods to exchanges.",
  type: "array",
  items: amqpBindingSchema,
};

/** The mapping files' `amqp:`. */
export const amqpMappingSchema: JsonSchema = object("Methods bound to RabbitMQ.", {
  bindings: amqpBindingsSchema,
});

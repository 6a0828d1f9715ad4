import {
  duration,
  ifThenElse,
  type JsonSchema,
  object,
  oneOf,
  oneOrMany,
  text,
} from "../../config/schema-kit.js";

/** JSON Schema fragments of the config file's `rateLimit:` and of a method's `rateLimit` limits. */

/** What one bucket counts. */
export const KEY_PARTS = ["ip", "subject", "apiKey", "route"] as const;

const limit = object(
  "A limit: rate requests per period, with a burst, counted per key.",
  {
    name: text('Name in the RateLimit headers and the 429 message (default: "<rate>-per-<per>").'),
    key: oneOrMany(
      "What one bucket counts, combined: the client IP, the token's subject, the API key, the route.",
      { description: "A key part.", type: "string", enum: [...KEY_PARTS] },
      { default: ["ip"], errorMessage: `expected parts of ${KEY_PARTS.join(", ")}` },
    ),
    rate: {
      description: "Requests per period.",
      type: "integer",
      minimum: 1,
      errorMessage: "expected a whole number of requests, 1 or more",
    },
    per: duration("The period.", { positive: true, default: "1s" }),
    burst: {
      description: "Requests allowed at once (default: rate).",
      type: "integer",
      minimum: 1,
      errorMessage: "expected a whole number, 1 or more",
    },
  },
  { required: ["rate"] },
);

/** A list of limits, or "none" (a method without limits while the gateway has a default). */
export const limitsSchema: JsonSchema = {
  description: 'Limits of a route, all applied; "none" for no limit.',
  ...ifThenElse({ type: "string" }, { type: "string", const: "none" }, { type: "array", items: limit }),
  errorMessage: { type: 'expected a list of limits or "none"', const: 'expected a list of limits or "none"' },
};

/** The config file's `rateLimit:`. */
export const rateLimitSchema: JsonSchema = object("Rate limiting: store, failure mode, default limits.", {
  store: oneOf("Where buckets live: memory (one process) or redis (shared).", ["memory", "redis"], "memory"),
  redis: object("The Redis store.", {
    url: text("Redis URL.", { default: "redis://127.0.0.1:6379" }),
    keyPrefix: text("Prefix of the bucket keys.", { default: "protogate:rl:" }),
    timeout: duration("How long a Redis call may take before it counts as a store failure.", {
      default: "100ms",
    }),
  }),
  onStoreFailure: oneOf(
    "When Redis cannot be reached: let requests through (open) or refuse them with 503 (closed).",
    ["open", "closed"],
    "open",
  ),
  apiKeyHeader: text("Header of the API key (key part apiKey).", { default: "x-api-key" }),
  default: { ...limitsSchema, description: "Limits of routes whose method sets none." },
});

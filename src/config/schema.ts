import { cacheConfigSchema } from "../interceptors/cache/policy.js";
import { circuitBreakerSchema } from "../interceptors/circuit-breaker/config.js";
import { retryBudgetSchema } from "../interceptors/retry/policy.js";
import { authSchema } from "../policies/auth/schema.js";
import { corsSchema } from "../policies/cors-schema.js";
import { ipFilterSchema } from "../policies/ip-filter-schema.js";
import { rateLimitSchema } from "../policies/rate-limit/schema.js";
import { amqpSchema } from "../upstream/amqp/schema.js";
import { backendsSchema } from "../upstream/grpc/schema.js";
import { methodSettingsSchema } from "./method-schema.js";
import { accessLogSchema, metricsSchema, tracingSchema } from "./observability.js";
import { bool, type JsonSchema, mapOf, object, oneOrMany, text } from "./schema-kit.js";
import { serverSchema } from "./server-schema.js";

/**
 * The JSON Schema (draft-07) of the config file (`protogate serve --config protogate.yaml`), assembled
 * from the fragments their owners export. Shipped as schemas/config.schema.json (`npm run schemas`);
 * editors validate and complete a file that starts with
 * `# yaml-language-server: $schema=./node_modules/protogate/schemas/config.schema.json`.
 */
export const configSchema: JsonSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "protogate config file",
  ...object("protogate.yaml: relative paths are relative to this file.", {
    server: serverSchema,
    protos: oneOrMany("Directories of .proto files.", { description: "A directory.", type: "string" }),
    descriptorSets: oneOrMany("Compiled FileDescriptorSets (buf build -o x.binpb).", {
      description: "A file.",
      type: "string",
    }),
    reflect: oneOrMany("Backends to discover services from by gRPC server reflection.", text("host:port")),
    mappings: text("Directory of mapping files (*.yaml): HTTP rules, backends, per-method settings."),
    backends: object(String(backendsSchema.description), {
      ...(backendsSchema.properties as Record<string, JsonSchema>),
      retryBudget: retryBudgetSchema,
      circuitBreaker: circuitBreakerSchema,
      balancing: {
        description:
          "Load balancing of every backend: { policy: round_robin|least_request, outlierDetection, healthCheck } (README: Resilience).",
        type: "object",
      },
      balancingByAddress: mapOf("Load balancing of single backends by address, over balancing.", {
        description: "As balancing.",
        type: "object",
      }),
      circuitBreakers: mapOf(
        "Circuit breakers of single backends by address, over circuitBreaker.",
        circuitBreakerSchema,
      ),
    }),
    autoMapping: bool("Bind methods without a google.api.http rule as POST /pkg.Service/Method.", true),
    defaults: {
      ...methodSettingsSchema,
      description: "Settings of every route; mapping files override them.",
    },
    auth: authSchema,
    rateLimit: rateLimitSchema,
    trustProxy: {
      description: "Take the client IP from X-Forwarded-For: true, or the proxies' addresses (CIDRs).",
      type: ["boolean", "string", "array"],
      items: { type: "string" },
      default: false,
    },
    cors: corsSchema,
    ipFilter: ipFilterSchema,
    amqp: amqpSchema,
    cache: cacheConfigSchema,
    metrics: metricsSchema,
    tracing: tracingSchema,
    accessLog: accessLogSchema,
    logLevel: {
      description: "Log level, or false for no log.",
      enum: ["fatal", "error", "warn", "info", "debug", "trace", "silent", false],
      default: "info",
    },
  }),
};

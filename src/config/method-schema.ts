import { cachePolicySchema } from "../interceptors/cache/policy.js";
import { faultPolicySchema } from "../interceptors/fault-injection.js";
import { retryPolicySchema } from "../interceptors/retry/policy.js";
import { requirementSchema } from "../policies/auth/schema.js";
import { corsOriginsSchema } from "../policies/cors-schema.js";
import { limitsSchema } from "../policies/rate-limit/schema.js";
import { bool, duration, type JsonSchema, object, oneOf, size } from "./schema-kit.js";

/**
 * Route settings: the config file's `defaults:` and a mapping file's `methods.<pkg.Service.Method>:`.
 * A new per-method key is one line here (and its reading in method-settings.ts).
 */
export const methodSettingsSchema: JsonSchema = object(
  "Route settings; mapping files override them per method.",
  {
    timeout: duration("Deadline when the client sends no Grpc-Timeout; 0 for none.", { default: "30s" }),
    maxTimeout: duration(
      "The longest Grpc-Timeout a client may ask for (longer is cut to it); default: the timeout; 0 for no cap.",
    ),
    retry: retryPolicySchema,
    idempotent: bool(
      "The method may be repeated without a second side effect (retried even when its proto does not say idempotency_level).",
    ),
    fault: faultPolicySchema,
    cache: {
      ...cachePolicySchema,
      description: "Response caching of the route (README: Caching); false turns it off.",
    },
    stream: object("Streaming routes: framing, limits and timers.", {
      heartbeatInterval: duration("SSE: a comment line after this much silence; 0 for none.", {
        default: "15s",
      }),
      maxStreamDuration: duration("The longest a stream may last (then DEADLINE_EXCEEDED); 0: no limit.", {
        default: "0",
      }),
      idleTimeout: duration("The longest wait for the next backend message; 0: no limit.", { default: "0" }),
      wrapMessages: bool('Messages as {"result": message} instead of bare.', false),
      maxMessageBytes: size("Client streaming: the largest request message.", { default: "4mb" }),
      maxMessages: {
        description: "Client streaming: the most request messages in one call; 0 for no limit.",
        type: "integer",
        minimum: 0,
        default: 0,
      },
      retry: duration("SSE retry: sent first (how long a client waits to reconnect); 0: not sent.", {
        default: "0",
      }),
    }),
    unknownQueryParameters: oneOf(
      "Query parameters that name no field: ignore them, or reject the request (400).",
      ["ignore", "reject"],
      "ignore",
    ),
    json: object("The JSON mapping of requests and responses.", {
      emitUnpopulated: bool(
        "Also print fields at their default value (not unset messages, oneofs, optionals).",
        false,
      ),
      useProtoNames: bool("Print proto field names (book_id) instead of JSON names (bookId).", false),
      enumsAsNumbers: bool("Print enum values as numbers.", false),
      ignoreUnknownFields: bool("Drop unknown JSON fields instead of answering 400.", false),
    }),
    auth: requirementSchema,
    rateLimit: {
      ...limitsSchema,
      description: 'Limits of the route (instead of rateLimit.default); "none" for no limit.',
    },
    corsOrigins: {
      ...corsOriginsSchema,
      description: "Origins allowed for the route (instead of cors.origins).",
    },
  },
);

import { methodSettingsSchema } from "../config/method-schema.js";
import type { JsonSchema } from "../config/schema-kit.js";
import { COMPOSITE_SETTINGS } from "./config.js";

/**
 * JSON Schema of the `compositions:` key of a mapping file: the same shape config.ts reads. Descriptor
 * checks (field paths, types, cycles) are not expressible here; check.ts does them.
 */
const duration = (description: string): JsonSchema => ({
  description,
  type: ["string", "number"],
  pattern: "^\\d+(\\.\\d+)?(ms|s|m|h)$",
});
const template = (method: string): JsonSchema => ({
  description: `The composite route's ${method} path template (the google.api.http grammar).`,
  type: "string",
  minLength: 1,
});
const text = (description: string, extra: JsonSchema = {}): JsonSchema => ({
  description,
  type: "string",
  minLength: 1,
  ...extra,
});

/**
 * The route settings a composite route may carry, taken from the per-method settings' own schema
 * (src/config/method-schema.ts, which assembles each policy's fragment): one definition, not a copy.
 */
const settings: Record<string, JsonSchema> = Object.fromEntries(
  COMPOSITE_SETTINGS.map((k) => {
    const own = (methodSettingsSchema.properties as Record<string, JsonSchema>)[k];
    if (!own) throw new Error(`compose/schema: no per-method setting "${k}"`);
    return [k, own];
  }),
);

export const compositionsSchema: JsonSchema = {
  description: "Composite routes: one REST call answered from several backend calls.",
  type: "array",
  items: {
    description: "A composite route: one HTTP method and template, its calls and its output.",
    type: "object",
    additionalProperties: false,
    minProperties: 1,
    oneOf: ["get", "post", "put", "delete", "patch"].map((m) => ({ required: [m] })),
    properties: {
      ...settings,
      get: template("GET"),
      post: template("POST"),
      put: template("PUT"),
      delete: template("DELETE"),
      patch: template("PATCH"),
      timeout: {
        ...settings.timeout,
        default: undefined, // the route default, whatever the config file makes it
        description:
          "Deadline of the whole composite when the client sends no Grpc-Timeout; 0 for none (default: the route default).",
      },
      calls: {
        description: "The backend calls; independent ones run in parallel.",
        type: "array",
        minItems: 1,
        items: {
          description: "One call of a gRPC method (or AMQP rpc binding).",
          type: "object",
          additionalProperties: false,
          required: ["name", "method"],
          properties: {
            name: text("The call's name, by which later calls and the output refer to it.", {
              pattern: "^[A-Za-z_][A-Za-z0-9_]*$",
              not: { enum: ["path", "query", "body", "item"] },
              errorMessage: "a call needs a name (letters, digits, _), not path, query, body or item",
            }),
            method: text("The method called: pkg.Service.Method."),
            request: {
              description:
                "Request field path -> source: path.<var>, query.<name>, body.<path>, <call>[.<path>], item[.<path>].",
              type: "object",
              additionalProperties: { type: "string", minLength: 1 },
            },
            required: {
              description: "A failure fails the answer (true, default) or is listed in errors (false).",
              type: "boolean",
            },
            timeout: duration("This call's own deadline (capped by the time left)."),
            forEach: text("A repeated field (<call>.<path> or a request source): one call per element."),
            maxItems: {
              description: "forEach: elements at most (more is a 400).",
              type: "integer",
              minimum: 1,
            },
            concurrency: { description: "forEach: calls in flight at once.", type: "integer", minimum: 1 },
          },
        },
      },
      output: {
        description: "The answer's keys, in this order.",
        type: "array",
        minItems: 1,
        items: {
          description: "One output key and where its value comes from.",
          type: "object",
          additionalProperties: false,
          required: ["key", "from"],
          properties: {
            key: text("The key in the JSON answer."),
            from: text("A call's result, or one of its fields: <call>[.<path>]."),
            merge: {
              description: "How results that share a key combine: concat (lists) or object (messages).",
              enum: ["concat", "object"],
            },
          },
        },
      },
    },
    required: ["calls", "output"],
  },
};

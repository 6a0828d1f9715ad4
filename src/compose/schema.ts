/**
 * JSON Schema (draft 2020-12) of the `compositions:` key of a mapping file, for the schema-based
 * mapping-file reader: the same shape config.ts reads by hand. Descriptor checks (field paths, types,
 * cycles) are not expressible here; check.ts does them.
 */
const duration = { type: ["string", "number"], pattern: "^\\d+(\\.\\d+)?(ms|s|m|h)$" };
const template = { type: "string", minLength: 1 };

export const compositionsSchema = {
  type: "array",
  items: {
    type: "object",
    additionalProperties: false,
    minProperties: 1,
    oneOf: ["get", "post", "put", "delete", "patch"].map((m) => ({ required: [m] })),
    properties: {
      get: template,
      post: template,
      put: template,
      delete: template,
      patch: template,
      timeout: duration,
      calls: {
        type: "array",
        minItems: 1,
        items: {
          type: "object",
          additionalProperties: false,
          required: ["name", "method"],
          properties: {
            name: {
              type: "string",
              pattern: "^[A-Za-z_][A-Za-z0-9_]*$",
              not: { enum: ["path", "query", "body", "item"] },
            },
            method: { type: "string", minLength: 1 },
            request: { type: "object", additionalProperties: { type: "string", minLength: 1 } },
            required: { type: "boolean" },
            timeout: duration,
            forEach: { type: "string", minLength: 1 },
            maxItems: { type: "integer", minimum: 1 },
            concurrency: { type: "integer", minimum: 1 },
          },
        },
      },
      output: {
        type: "array",
        minItems: 1,
        items: {
          type: "object",
          additionalProperties: false,
          required: ["key", "from"],
          properties: {
            key: { type: "string", minLength: 1 },
            from: { type: "string", minLength: 1 },
            merge: { enum: ["concat", "object"] },
          },
        },
      },
    },
    required: ["calls", "output"],
  },
} as const;

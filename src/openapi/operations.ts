import type { Route } from "../routing/route.js";
import type { Schema, SchemaSet } from "./schemas.js";
import { BEARER, type SecurityRequirement } from "./security.js";

/**
 * AMQP commands in the document: they answer `202 Accepted` with a google.longrunning.Operation (as
 * src/upstream/amqp/operations.ts `served` writes it) and its `Location`, `/v1/operations/{id}`, which
 * `GET /v1/operations/{id}` (src/server/operations-routes.ts) serves until the operation expires.
 */
const OPERATION = "protogate.Operation";
export const OPERATIONS_PATH = "/v1/operations/{id}";

/** The components.schemas entry of the Operation; returns a reference to it. */
function operationRef(schemas: SchemaSet, status: Schema): Schema {
  schemas.schemas[OPERATION] ??= {
    type: "object",
    description:
      "A google.longrunning.Operation as proto3 JSON: `done` is false until the worker's result arrives, " +
      "then exactly one of `error` and `response` is set.",
    properties: {
      name: { type: "string", description: "operations/{id}", pattern: "^operations/[0-9a-f-]{36}$" },
      done: { type: "boolean" },
      metadata: {
        type: "object",
        description: "A google.protobuf.Struct in an Any.",
        properties: {
          "@type": { type: "string", const: "type.googleapis.com/google.protobuf.Struct" },
          value: {
            type: "object",
            properties: {
              method: { type: "string", description: "full name of the method, e.g. pkg.Service.Method" },
              createTime: { type: "string", format: "date-time" },
              progress: { description: "the worker's last progress report (any JSON)" },
            },
            required: ["method", "createTime"],
          },
        },
      },
      error: status,
      response: {
        type: "object",
        description: "The method's response message as an Any (`@type` plus its fields).",
        properties: { "@type": { type: "string" } },
        additionalProperties: true,
      },
    },
    required: ["name", "done", "metadata"],
  };
  return { $ref: `#/components/schemas/${OPERATION}` };
}

/** Responses and the Idempotency-Key header of a command route (mode "command"). */
export function commandParts(
  route: Route,
  schemas: SchemaSet,
  status: Schema,
): { response: Schema; parameter: Schema } {
  const output = schemas.ref(route.method.output);
  return {
    response: {
      description:
        "Accepted: the broker confirmed the command. Poll `Location` until `done`; the `response` is then a " +
        `${route.method.output.fullName}.`,
      headers: {
        Location: {
          description: "Where the operation is served: /v1/operations/{id}.",
          schema: { type: "string" },
        },
      },
      content: {
        "application/json": {
          schema: {
            allOf: [operationRef(schemas, status), { properties: { response: output } }],
          },
        },
      },
    },
    parameter: {
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description:
        "Sent again with the same key (within the operations' lifetime), the command is not published " +
        "twice: the answer is the operation the first request started.",
      schema: { type: "string", pattern: "^[\\x21-\\x7e]{1,200}$" },
    },
  };
}

/**
 * The path item of `GET /v1/operations/{id}`. With auth configured the token is optional: an operation
 * started with a token is shown to the same caller only (others get 404).
 */
export function operationsPathItem(
  schemas: SchemaSet,
  status: Schema,
  errorResponse: Schema,
  withAuth: boolean,
): Schema {
  const security: SecurityRequirement[] = [{}, { [BEARER]: [] }];
  return {
    get: {
      operationId: "protogate_GetOperation",
      tags: ["protogate"],
      summary: "The state of an AMQP command.",
      description:
        "Operations are kept for a configured time (`amqp.operations.ttl`); one started by an authenticated " +
        "caller is only shown to that caller, to anyone else it is NOT_FOUND.",
      parameters: [
        {
          name: "id",
          in: "path",
          required: true,
          description: "the id in the operation's name (operations/{id})",
          schema: { type: "string", format: "uuid" },
        },
      ],
      ...(withAuth ? { security } : {}),
      responses: {
        "200": {
          description:
            "OK. With Accept text/event-stream or application/x-ndjson: the operation each time it changes, then an end record (issue #14).",
          content: {
            "application/json": { schema: operationRef(schemas, status) },
            "application/x-ndjson": { schema: operationRef(schemas, status) },
            "text/event-stream": { schema: { type: "string" } },
          },
        },
        default: errorResponse,
      },
    },
  };
}

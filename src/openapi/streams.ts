import type { Route } from "../routing/route.js";
import { callKind } from "../server/streaming/settings.js";
import type { Schema, SchemaSet } from "./schemas.js";

/**
 * Streaming routes in the OpenAPI document (issue #14 item 9): the request of a client stream as
 * NDJSON or a JSON array of messages; the answer of a server stream per framing (see
 * src/server/streaming/framing.ts), each record either a message, `{"error": Status}` or
 * `{"end": {"trailers": {...}}}`. `x-protogate-stream` names the kind for tools.
 */
export function streamRequestBody(route: Route, schemas: SchemaSet): Schema {
  const message = schemas.ref(route.method.input);
  return {
    required: false,
    description: "Request messages, sent one by one as they arrive: one per NDJSON line, or a JSON array.",
    content: {
      "application/x-ndjson": { schema: message },
      "application/json": { schema: { type: "array", items: message } },
    },
  };
}

/** The 200 answer of a server- or bidi-streaming route. */
export function streamResponse(route: Route, schemas: SchemaSet, statusSchema: Schema): Schema {
  const message = route.responseBody ? schemas.field(route.responseBody) : schemas.ref(route.method.output);
  const asMessage = route.settings.stream?.wrapMessages
    ? { type: "object", properties: { result: message }, required: ["result"] }
    : message;
  const end = {
    type: "object",
    properties: {
      end: {
        type: "object",
        properties: {
          trailers: { type: "object", additionalProperties: { type: "array", items: { type: "string" } } },
        },
      },
    },
    required: ["end"],
  };
  const error = { type: "object", properties: { error: statusSchema }, required: ["error"] };
  const record = { oneOf: [asMessage, error, end] };
  return {
    description:
      'A stream of messages; the last record says how it ended ({"error": Status} or {"end": {"trailers"}}). ' +
      "An error before the first message is a normal error answer.",
    content: {
      "application/x-ndjson": { schema: record },
      "text/event-stream": {
        schema: {
          type: "string",
          description:
            "SSE: `id: <n>` + `data: <message>` per message, then `event: end` or `event: error` with the record's value as data.",
        },
      },
      "application/json": { schema: { type: "array", items: record } },
    },
  };
}

/** "server-stream", "client-stream" or "bidi-stream"; undefined for unary routes. */
export function streamKind(route: Route): string | undefined {
  const kind = callKind(route.method);
  return kind === "unary" ? undefined : kind;
}

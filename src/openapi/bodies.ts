import type { MessageInfo } from "../codec/message-info.js";
import type { Route } from "../routing/route.js";
import type { Schema, SchemaSet } from "./schemas.js";

/** Request bodies per `body`, and the 200 response per `response_body` (google.api.HttpBody is raw). */

const isHttpBody = (info: MessageInfo | undefined) => info?.fullName === "google.api.HttpBody";

export function requestBody(route: Route, schemas: SchemaSet): Schema | undefined {
  if (route.body.kind === "none") return undefined;
  if (route.body.kind === "all") {
    if (isHttpBody(route.method.input)) return { required: true, content: { "*/*": { schema: {} } } };
    return { required: true, content: { "application/json": { schema: schemas.ref(route.method.input) } } };
  }
  const f = route.body.field;
  if (f.element.kind === "message" && isHttpBody(f.element.message()))
    return { required: true, content: { "*/*": { schema: {} } } };
  return { required: true, content: { "application/json": { schema: schemas.field(f) } } };
}

/**
 * The 200 answer of a call that reaches its method. `whole`: the answer is the whole output message
 * whatever `response_body` says (AMQP rpc replies, src/upstream/amqp/upstream.ts).
 */
export function okResponse(route: Route, schemas: SchemaSet, whole = false): Schema {
  const f = whole ? undefined : route.responseBody;
  const info = f ? (f.element.kind === "message" ? f.element.message() : undefined) : route.method.output;
  if (isHttpBody(info)) return { description: "OK", content: { "*/*": { schema: {} } } };
  const schema = f ? schemas.field(f) : schemas.ref(route.method.output);
  return { description: "OK", content: { "application/json": { schema } } };
}

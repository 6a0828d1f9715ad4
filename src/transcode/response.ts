import { decodeMessage, defaultScalar, fieldToJson, type Msg, messageToJson } from "../codec/index.js";
import type { Route } from "../routing/route.js";

export interface HttpResponseBody {
  readonly contentType: string;
  readonly body: string | Uint8Array;
}

const JSON_TYPE = "application/json";

/** The upstream's binary answer as the HTTP body: the whole message, or only `response_body`. */
export function renderResponse(route: Route, bytes: Uint8Array): HttpResponseBody {
  const output = route.method.output;
  const msg = decodeMessage(output, bytes);
  if (output.fullName === "google.api.HttpBody") return httpBody(msg);
  const f = route.responseBody;
  if (!f) return { contentType: JSON_TYPE, body: JSON.stringify(messageToJson(output, msg, route.write)) };
  const v = msg[f.name];
  const inner = f.element.kind === "message" && !f.repeated ? f.element.message() : undefined;
  if (inner?.fullName === "google.api.HttpBody") return httpBody((v as Msg | undefined) ?? {});
  let json: unknown;
  if (v !== undefined) json = fieldToJson(f, v, route.write);
  else if (f.mapKey || inner) json = {};
  else if (f.repeated) json = [];
  else json = fieldToJson(f, f.element.kind === "scalar" ? defaultScalar(f.element.scalar) : 0, route.write);
  return { contentType: JSON_TYPE, body: JSON.stringify(json) };
}

function httpBody(msg: Msg): HttpResponseBody {
  return {
    contentType: (msg.content_type as string | undefined) || "application/octet-stream",
    body: (msg.data as Uint8Array | undefined) ?? new Uint8Array(0),
  };
}

import { encodeMessage } from "../../codec/index.js";
import type { Route } from "../../routing/route.js";
import { buildRequest } from "../../transcode/request.js";
import { renderResponse } from "../../transcode/response.js";
import { ENCODED_OFFSET } from "../../upstream/call.js";

/**
 * One backend message as the JSON text a stream carries: rendered with the route's JSON options and
 * response_body, bare or as `{"result": ...}` (stream.wrapMessages). Throws what the codec throws.
 */
export function messageJson(route: Route, wrap: boolean, bytes: Buffer): string {
  const json = String(renderResponse(route, bytes).body);
  return wrap ? `{"result":${json}}` : json;
}

/**
 * One request message of a stream (an NDJSON line, an array element, a WebSocket frame) as the
 * route's body, with path and query overlaid as for unary calls, encoded after ENCODED_OFFSET free
 * bytes. Throws GatewayError/JsonMappingError (INVALID_ARGUMENT) for a bad message.
 */
export function encodeStreamRequest(
  route: Route,
  segments: readonly string[],
  query: string,
  json: Buffer,
): Buffer {
  const message = buildRequest(route, { segments, query, body: json, contentType: "application/json" });
  return encodeMessage(route.method.input, message, ENCODED_OFFSET);
}

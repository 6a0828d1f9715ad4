import type { Route } from "../../routing/route.js";
import { renderResponse } from "../../transcode/response.js";
import type { RenderedBody, UpstreamResult } from "../../upstream/call.js";
import { etagOf } from "./conditional.js";

/**
 * The answer as the client gets it, rendered once when the cache stores it: the output message in the
 * route's JSON (response_body, JSON options, HttpBody), or a body the target rendered; with its exact
 * Content-Type (a JSON text gets `; charset=utf-8`, as Fastify gives a string body) and its strong ETag.
 * A hit writes these bytes and this ETag as they are: no decode, no JSON, no hash per hit.
 * Undefined when the answer cannot be rendered: it is then not stored, and the handler renders it
 * (and answers its error) as for any route.
 */
export function renderForStore(route: Route, result: UpstreamResult): RenderedBody | undefined {
  if (result.rendered) return result.rendered;
  let contentType: string;
  let bytes: Buffer;
  try {
    if (result.body) {
      ({ contentType } = result.body);
      bytes = Buffer.isBuffer(result.body.bytes) ? result.body.bytes : Buffer.from(result.body.bytes);
      if (typeof result.body.bytes === "string") contentType = withCharset(contentType);
    } else if (result.message) {
      const r = renderResponse(route, result.message);
      contentType = typeof r.body === "string" ? withCharset(r.contentType) : r.contentType;
      bytes = Buffer.from(r.body); // a copy: an HttpBody's data is a view of the whole answer
    } else return undefined;
  } catch {
    return undefined;
  }
  return { contentType, bytes, etag: etagOf(bytes) };
}

/** What Fastify sends for a JSON text body: the type with `charset=utf-8` unless it names one. */
function withCharset(type: string): string {
  return type.includes("json") && !/;\s*charset=/i.test(type) ? `${type}; charset=utf-8` : type;
}

import type { FastifyRequest } from "fastify";
import { UNMATCHED } from "./metrics.js";

/**
 * The route of a request for metrics, spans and logs: the matched rule's template
 * (`/v1/shelves/{shelf}`), a static endpoint's own path (`/_protogate/status`), or `_unmatched` when no
 * rule matched (404, 405). Never the raw path: that would make one series per URL.
 */
export function routeLabel(req: FastifyRequest): string {
  const state = req.gateway;
  if (state) return state.match.route.template.source;
  const url = req.routeOptions.url;
  return url === undefined || url === "/" || url === "/*" ? UNMATCHED : url;
}

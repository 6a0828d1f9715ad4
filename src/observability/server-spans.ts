import { ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { FastifyReply, FastifyRequest } from "fastify";
import { UNMATCHED } from "./metrics.js";
import { routeLabel } from "./route-label.js";
import { formatTraceparent } from "./trace-context.js";
import "./request-facts.js";

const w3c = new W3CTraceContextPropagator();
const headerGetter = {
  keys: (carrier: FastifyRequest["headers"]) => Object.keys(carrier),
  get: (carrier: FastifyRequest["headers"], key: string) => carrier[key],
};

/**
 * SERVER spans, one per request, per OpenTelemetry's HTTP server conventions: named `{METHOD} {route}`
 * (`{METHOD}` alone when no rule matched), attributes `http.request.method`, `url.path`, `url.scheme`,
 * `client.address`, `user_agent.original`, `network.protocol.version`, then `http.route`,
 * `http.response.status_code`, and `error.type` with an ERROR status for 5xx only (a 4xx is the
 * client's error: the status stays unset). The parent comes from the client's `traceparent`; the span's
 * own `traceparent` replaces the header, so that the upstream call (and its CLIENT span) continue it.
 */
export class ServerSpans {
  constructor(private readonly tracer: Tracer) {}

  /** onRequest part. */
  start(req: FastifyRequest): void {
    const headers = req.headers;
    const parent =
      headers.traceparent === undefined ? ROOT_CONTEXT : w3c.extract(ROOT_CONTEXT, headers, headerGetter);
    const url = req.raw.url ?? "/";
    const q = url.indexOf("?");
    const span = this.tracer.startSpan(
      req.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          "http.request.method": req.method,
          "url.path": q === -1 ? url : url.slice(0, q),
          "url.scheme": req.protocol,
          "client.address": req.ip,
          "network.protocol.version": req.raw.httpVersion,
          ...(headers["user-agent"] === undefined ? {} : { "user_agent.original": headers["user-agent"] }),
        },
      },
      parent,
    );
    req.otelSpan = span;
    const sc = span.spanContext();
    headers.traceparent = formatTraceparent(sc.traceId, sc.spanId, sc.traceFlags);
  }

  /** onResponse part. */
  end(req: FastifyRequest, reply: FastifyReply, disconnected: boolean): void {
    const span = req.otelSpan;
    if (!span) return;
    req.otelSpan = null;
    if (!span.isRecording()) return;
    finish(span, req, reply.statusCode, disconnected);
  }
}

function finish(span: Span, req: FastifyRequest, status: number, disconnected: boolean): void {
  const route = routeLabel(req);
  if (route !== UNMATCHED) {
    span.updateName(`${req.method} ${route}`);
    span.setAttribute("http.route", route);
  }
  span.setAttribute("http.response.status_code", status);
  const outcome = req.gateway?.notes?.outcome;
  if (outcome !== undefined) span.setAttribute("protogate.upstream.outcome", outcome);
  if (disconnected) span.setAttribute("protogate.client_disconnected", true);
  if (status >= 500) {
    span.setAttribute("error.type", String(status));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

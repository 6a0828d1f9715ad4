import type { Span } from "@opentelemetry/api";

/** What the observability hooks keep on a request between onRequest, onError and onResponse. */
export interface ObservedRequest {
  /** The SERVER span, when tracing is on. */
  otelSpan: Span | null;
  /** The gRPC code of the error answered (the gateway's own or the backend's), when one was. */
  errorCode: number | null;
  /** Set once the request's metrics, span and log line are recorded. */
  observed: boolean;
}

declare module "fastify" {
  interface FastifyRequest extends ObservedRequest {}
}

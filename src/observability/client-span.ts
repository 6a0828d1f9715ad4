import {
  type Attributes,
  type Context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
} from "@opentelemetry/api";
import type { GatewayError } from "../errors/gateway-error.js";
import type { Metadata } from "../upstream/call-metadata.js";
import { codeName } from "./code-name.js";
import { formatTraceparent } from "./trace-context.js";

/**
 * Starts the CLIENT span of one upstream attempt (unary or stream), child of `parent`, and puts its
 * `traceparent` in the call's metadata so that the backend continues it (W3C Trace Context).
 */
export function startClientSpan(
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  parent: Context,
  metadata: Metadata,
): Span {
  const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent);
  const sc = span.spanContext();
  metadata.set("traceparent", formatTraceparent(sc.traceId, sc.spanId, sc.traceFlags));
  return span;
}

/**
 * Ends an attempt's CLIENT span: `rpc.grpc.status_code` (gRPC only; 0 on success), `extra` attributes,
 * and on an error `error.type` (the gRPC code name) with the ERROR status (OpenTelemetry's RPC
 * semantic conventions). Nothing is set on a span that is not recording (not sampled).
 */
export function endClientSpan(
  span: Span,
  err: GatewayError | undefined,
  isGrpc: boolean,
  extra?: Attributes,
): void {
  if (!span.isRecording()) return;
  if (isGrpc) span.setAttribute("rpc.grpc.status_code", err ? err.code : 0);
  if (extra) span.setAttributes(extra);
  if (err) {
    span.setAttribute("error.type", codeName(err.code));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
  }
  span.end();
}

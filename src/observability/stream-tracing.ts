import { type Attributes, type Context, SpanKind, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import type { OpenStream } from "../interceptors/interceptor.js";
import type { CallNotes } from "../upstream/call.js";
import type { Metadata } from "../upstream/call-metadata.js";
import { codeName } from "./code-name.js";
import { formatTraceparent } from "./trace-context.js";

/**
 * A CLIENT span per upstream stream attempt, as tracing-interceptor.ts makes one per unary attempt:
 * named and attributed by the caller (`rpc.system`, `rpc.service`, `rpc.method`, `server.address`,
 * `server.port`), a child of the call's `traceparent`, which it then replaces with its own so that the
 * backend continues it. At the stream's end: `rpc.grpc.status_code` (the final code, for gRPC),
 * `protogate.stream.messages_sent` / `_received`, and `error.type` (code name) with the ERROR status
 * when the code is not OK.
 */
export function traceStream(
  next: OpenStream,
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  isGrpc: boolean,
  parentOf: (md: Metadata, notes: CallNotes) => Context,
): OpenStream {
  return (call, sink) => {
    const span = tracer.startSpan(
      name,
      { kind: SpanKind.CLIENT, attributes },
      parentOf(call.metadata, call.notes),
    );
    const sc = span.spanContext();
    call.metadata.set("traceparent", formatTraceparent(sc.traceId, sc.spanId, sc.traceFlags));
    let sent = 0;
    let received = 0;
    const control = next(call, {
      onHeaders: (headers) => sink.onHeaders(headers),
      onMessage(message) {
        received++;
        sink.onMessage(message);
      },
      onDrain: () => sink.onDrain(),
      onEnd(err, trailers) {
        if (span.isRecording()) {
          if (isGrpc) span.setAttribute("rpc.grpc.status_code", err ? err.code : 0);
          span.setAttribute("protogate.stream.messages_sent", sent);
          span.setAttribute("protogate.stream.messages_received", received);
          if (err) {
            span.setAttribute("error.type", codeName(err.code));
            span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
          }
          span.end();
        }
        sink.onEnd(err, trailers);
      },
    });
    return {
      write(encoded) {
        sent++;
        return control.write(encoded);
      },
      end: () => control.end(),
      cancel: () => control.cancel(),
      pause: () => control.pause(),
      resume: () => control.resume(),
    };
  };
}

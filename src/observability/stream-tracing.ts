import type { Attributes, Context, Tracer } from "@opentelemetry/api";
import type { OpenStream } from "../interceptors/interceptor.js";
import type { CallNotes } from "../upstream/call.js";
import type { Metadata } from "../upstream/call-metadata.js";
import { endClientSpan, startClientSpan } from "./client-span.js";

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
    const span = startClientSpan(
      tracer,
      name,
      attributes,
      parentOf(call.metadata, call.notes),
      call.metadata,
    );
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
        endClientSpan(span, err, isGrpc, {
          "protogate.stream.messages_sent": sent,
          "protogate.stream.messages_received": received,
        });
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

import type { MessageInfo } from "../../codec/index.js";
import { Code } from "../../errors/code.js";
import type { MethodDescriptor } from "../../registry/registry.js";
import type { Metadata } from "../call-metadata.js";
import type { StreamTarget } from "../target.js";
import type { Channel } from "./channel.js";
import { responseHeaders } from "./metadata.js";
import { errorFromStatus } from "./status.js";
import { openStream } from "./stream.js";

/**
 * The target of a route bound to a server-, client- or bidi-streaming gRPC method: a call over
 * `channel` through openStream (stream.ts), its metadata and status turned into HTTP-side values.
 * `resolve` finds message types for the details of google.rpc.Status.
 */
export function grpcStreamTarget(
  channel: Channel,
  method: MethodDescriptor,
  resolve: (fullName: string) => MessageInfo | undefined,
): StreamTarget {
  const path = method.path;
  const clientStreaming = method.clientStreaming;
  const serverStreaming = method.serverStreaming;
  return {
    kind: clientStreaming
      ? serverStreaming
        ? "grpc-bidi-stream"
        : "grpc-client-stream"
      : "grpc-server-stream",
    protocol: "grpc",
    upstream: channel.address,
    shape: "stream",
    clientStreaming,
    serverStreaming,
    open(call, sink) {
      call.notes.backend = channel.address;
      let headerMd: Metadata | undefined;
      return openStream(channel, path, call.metadata, call.timeoutMs, {
        onHeaders(md) {
          headerMd = md;
          sink.onHeaders(responseHeaders(md, undefined));
        },
        onMessage: (m) => sink.onMessage(m),
        onDrain: () => sink.onDrain(),
        onEnd(status) {
          const trailers = trailerValues(status.metadata);
          if (status.code === Code.OK) sink.onEnd(undefined, trailers);
          else sink.onEnd(errorFromStatus(status, headerMd, resolve), trailers);
        },
      });
    },
  };
}

/** Trailing metadata by key, without the Grpc-Trailer- prefix the HTTP headers carry. */
function trailerValues(md: Metadata): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const prefixed = responseHeaders(undefined, md);
  for (const k in prefixed) {
    out[k.slice("grpc-trailer-".length)] = prefixed[k]!;
  }
  return out;
}

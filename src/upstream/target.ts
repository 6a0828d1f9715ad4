import type { IncomingHttpHeaders } from "node:http";
import type { GatewayError } from "../errors/gateway-error.js";
import type { CallNotes, Cancel, Done, Invoke } from "./call.js";
import type { Metadata } from "./call-metadata.js";

/**
 * What a route calls, resolved once when the routes are compiled (never per request). A protocol
 * folder (`grpc/`, `amqp/`) exports a factory per kind of target; the handler calls `invoke` without
 * knowing which protocol is behind it. Streaming and composition add kinds of their own.
 */
export interface UnaryTarget {
  /** "grpc-unary", "amqp-command", "amqp-rpc", ...: for `protogate routes`, logs and metrics. */
  readonly kind: string;
  /** "grpc" or "amqp": the protocol label of metrics and spans (OpenTelemetry's `rpc.system`). */
  readonly protocol: string;
  /** Where calls go: a backend address or an AMQP broker/exchange, for status pages and logs. */
  readonly upstream: string;
  readonly shape: "unary";
  readonly invoke: Invoke;
}

/**
 * A composite route's target (src/compose/): several calls of other methods, each through that
 * method's own target and interceptor chain, answered as one JSON body (`UpstreamResult.body`).
 */
export interface CompositeTarget {
  readonly kind: "composite";
  readonly protocol: "composite";
  /** The calls' names and methods ("shelf=pkg.Svc.GetShelf, ..."), for status pages and logs. */
  readonly upstream: string;
  readonly shape: "composite";
  /** Runs the composition for one HTTP request; `done` once, never synchronously. */
  readonly serve: (request: CompositeRequest, done: Done) => Cancel;
}

/** What a composite target takes from the HTTP request: raw inputs plus the caller, as for one call. */
export interface CompositeRequest {
  /** The request's raw path segments (the router's match). */
  readonly segments: readonly string[];
  /** The raw query string, without "?". */
  readonly query: string;
  readonly body: Buffer | undefined;
  /** Copied to every call. */
  readonly metadata: Metadata;
  /** The overall deadline, ms (route timeout or Grpc-Timeout); 0 for none. */
  readonly timeoutMs: number;
  readonly requestId: string;
  readonly principal: string | undefined;
  readonly claims: Readonly<Record<string, string>>;
  /** The client's HTTP headers (lower-case names), handed to every part call. */
  readonly headers: IncomingHttpHeaders;
}

/**
 * The target of a route bound to a streaming method (issue #14): `open` starts one call whose request
 * and response messages flow one by one, with backpressure both ways. The HTTP side (framing, SSE,
 * WebSocket) lives in src/server/streaming/ and knows nothing of the protocol behind it.
 */
export interface StreamTarget {
  readonly kind: "grpc-server-stream" | "grpc-client-stream" | "grpc-bidi-stream" | "unavailable";
  readonly protocol: string;
  readonly upstream: string;
  readonly shape: "stream";
  /** Whether the client sends many messages (client or bidi streaming). */
  readonly clientStreaming: boolean;
  /** Whether the backend answers with many messages (server or bidi streaming). */
  readonly serverStreaming: boolean;
  /** Starts a call; `sink` callbacks never come synchronously from open(). Throws nothing. */
  open(call: StreamOpen, sink: StreamSink): StreamControl;
}

/** What a streaming call needs from the HTTP request. */
export interface StreamOpen {
  readonly metadata: Metadata;
  /** Deadline of the whole call, ms; 0 for none. */
  readonly timeoutMs: number;
  readonly notes: CallNotes;
}

/** Where a streaming call reports; onEnd comes exactly once, last. */
export interface StreamSink {
  /** The backend's header metadata as `Grpc-Metadata-*` HTTP headers (not for a trailers-only answer). */
  onHeaders(headers: Record<string, string[]>): void;
  /** One response message, its binary encoding. */
  onMessage(message: Buffer): void;
  /**
   * The end: `err` for a non-OK status (code, message, details, headers), else undefined; `trailers` is
   * the trailing metadata by key (binary values base64), for the stream's end record.
   */
  onEnd(err: GatewayError | undefined, trailers: Record<string, string[]>): void;
  /** What write() held back has gone out: write again. */
  onDrain(): void;
}

/** Controls a streaming call in flight. */
export interface StreamControl {
  /**
   * Sends one request message encoded after ENCODED_OFFSET free bytes (see upstream/call.ts); false:
   * wait for onDrain before the next.
   */
  write(encoded: Buffer): boolean;
  /** No more request messages (half-close). */
  end(): void;
  /** Stops the call at once (CANCELLED upstream); onEnd follows with CANCELLED. Idempotent. */
  cancel(): void;
  /** Stops reading response messages (the backend's flow-control window fills). */
  pause(): void;
  resume(): void;
}

/** Every kind of target a route may have. */
export type Target = UnaryTarget | StreamTarget | CompositeTarget;

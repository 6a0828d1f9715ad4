import type { Cancel, Done, Invoke } from "./call.js";
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
}

/** Every kind of target a route may have. */
export type Target = UnaryTarget | CompositeTarget;

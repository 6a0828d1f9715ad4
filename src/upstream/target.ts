import type { Invoke } from "./call.js";

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

/** Every kind of target a route may have. */
export type Target = UnaryTarget;

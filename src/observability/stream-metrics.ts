import { Counter, Gauge, Histogram } from "prom-client";

/**
 * The metrics of upstream streams (server-, client- and bidi-streaming calls), beside the unary ones
 * of metrics.ts and with the same labels: `protocol`, `backend` (address), `rpc_method`
 * (`package.Service/Method`), `outcome` (the final gRPC code name). Each attempt of a stream is also
 * observed in `protogate_upstream_request_duration_seconds` with its code (stream-metrics-interceptor.ts).
 */

/** Streams last from milliseconds to hours, seconds: 5 ms to 1 h. */
export const STREAM_DURATION_BUCKETS = [0.005, 0.05, 0.25, 1, 5, 15, 60, 300, 900, 3600];

export const streamMessages = new Counter({
  name: "protogate_upstream_stream_messages_total",
  help: "Messages of upstream streams, by protocol, backend, RPC method and direction (sent: to the backend, received: from it).",
  labelNames: ["protocol", "backend", "rpc_method", "direction"] as const,
});

export const activeStreams = new Gauge({
  name: "protogate_upstream_active_streams",
  help: "Upstream streams open now, by protocol, backend and RPC method.",
  labelNames: ["protocol", "backend", "rpc_method"] as const,
});

export const streamDuration = new Histogram({
  name: "protogate_upstream_stream_duration_seconds",
  help: "Upstream stream attempts from open to their final status, by protocol, backend, RPC method and outcome (gRPC code name).",
  labelNames: ["protocol", "backend", "rpc_method", "outcome"] as const,
  buckets: STREAM_DURATION_BUCKETS,
});

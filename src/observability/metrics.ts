import { Counter, collectDefaultMetrics, Gauge, register } from "prom-client";
import { BoundHistogram } from "./histogram.js";

/**
 * The gateway's Prometheus metrics, one set per process in prom-client's default registry (so that
 * `--workers N` aggregates them with prom-client's AggregatorRegistry). Names follow Prometheus'
 * conventions: base units (seconds, bytes), `_total` for counters; label values are bounded (a route is
 * its template, never the raw path). Defined at import: a policy increments a counter with one line
 * whether or not `/metrics` is served. The histograms on every request's path are BoundHistograms
 * (children bound once, tens of nanoseconds an observation); prom-client's own counters cost about a
 * microsecond an increment, so they count what is not on every request (policy decisions, AMQP).
 */

/** OpenTelemetry's advised buckets for `http.server.request.duration`, seconds. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** Body sizes, bytes: 64 B to 4 MiB by powers of 4. */
export const SIZE_BUCKETS = [64, 256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304];

/** The route label of a request that matched no rule (404, 405): one series, whatever the URL. */
export const UNMATCHED = "_unmatched";

export const httpDuration = new BoundHistogram({
  name: "protogate_http_server_request_duration_seconds",
  help: "Time from the request's arrival to the end of its response, by method, route template, HTTP status and upstream outcome (gRPC code name or AMQP outcome; none when no upstream was called).",
  labelNames: ["method", "route", "status", "outcome"] as const,
  buckets: DURATION_BUCKETS,
});

let activeRequests = 0;

/** One more request in flight (`protogate_http_server_active_requests`, read at scrape time). */
export function requestStarted(): void {
  activeRequests++;
}

/** One request fewer in flight. */
export function requestEnded(): void {
  activeRequests--;
}

new Gauge({
  name: "protogate_http_server_active_requests",
  help: "Requests received and not answered yet.",
  collect() {
    this.set(activeRequests);
  },
});

export const httpRequestSize = new BoundHistogram({
  name: "protogate_http_server_request_body_size_bytes",
  help: "Request body sizes (Content-Length, or the bytes read of a streamed body), by method and route template.",
  labelNames: ["method", "route"] as const,
  buckets: SIZE_BUCKETS,
});

export const httpResponseSize = new BoundHistogram({
  name: "protogate_http_server_response_body_size_bytes",
  help: "Response body sizes, by method and route template.",
  labelNames: ["method", "route"] as const,
  buckets: SIZE_BUCKETS,
});

export const upstreamDuration = new BoundHistogram({
  name: "protogate_upstream_request_duration_seconds",
  help: "Upstream call attempts: protocol (grpc, amqp), backend address or broker/exchange, RPC method (package.Service/Method) and outcome (gRPC code name or AMQP outcome).",
  labelNames: ["protocol", "backend", "rpc_method", "outcome"] as const,
  buckets: DURATION_BUCKETS,
});

/** Auth outcomes: `authenticated`, `anonymous` (a public route without a valid token), `rejected`. */
export const authDecisions = new Counter({
  name: "protogate_auth_decisions_total",
  help: "Authentication decisions of the auth policy, by outcome (authenticated, anonymous, rejected).",
  labelNames: ["outcome"] as const,
});

/** Rate-limit decisions: `allowed`, `limited`, `store_failure`. */
export const rateLimitDecisions = new Counter({
  name: "protogate_rate_limit_decisions_total",
  help: "Rate-limit decisions, by decision (allowed, limited, store_failure).",
  labelNames: ["decision"] as const,
});

/** AMQP publishes by outcome: `confirmed`, `returned`, `nacked`, `timed_out`, `blocked`. */
export const amqpPublishes = new Counter({
  name: "protogate_amqp_publishes_total",
  help: "Messages published to RabbitMQ, by broker and outcome (confirmed, returned, nacked, timed_out, blocked).",
  labelNames: ["broker", "outcome"] as const,
});

export const amqpPending = new Gauge({
  name: "protogate_amqp_publishes_pending",
  help: "Publishes waiting for the broker's confirm, by broker.",
  labelNames: ["broker"] as const,
});

/** What the config gauges read at scrape time. */
export interface ConfigFacts {
  readonly generation: number;
  readonly routes: number;
  /** Whether the last reload attempt failed (the previous configuration stays in force). */
  readonly lastReloadFailed: boolean;
}

let configFacts: (() => ConfigFacts) | undefined;

/** Sets where the config gauges read their values (the last gateway created in this process). */
export function reportConfig(facts: () => ConfigFacts): void {
  configFacts = facts;
}

// Read at scrape time; across workers the group shows the highest generation and the worst reload result.
new Gauge({
  name: "protogate_config_generation",
  help: "Generation of the configuration in force (1 at start, +1 per successful reload).",
  aggregator: "max",
  collect() {
    if (configFacts) this.set(configFacts().generation);
  },
});

new Gauge({
  name: "protogate_config_last_reload_success",
  help: "1 if the last reload attempt succeeded (or none was made), 0 if it failed and the previous configuration stays.",
  aggregator: "min",
  collect() {
    if (configFacts) this.set(configFacts().lastReloadFailed ? 0 : 1);
  },
});

new Gauge({
  name: "protogate_config_routes",
  help: "Routes in the configuration in force.",
  aggregator: "max",
  collect() {
    if (configFacts) this.set(configFacts().routes);
  },
});

let defaultsOn = false;

/** Node's default metrics (process_*, nodejs_*), once per process. */
export function collectProcessMetrics(): void {
  if (defaultsOn) return;
  defaultsOn = true;
  collectDefaultMetrics({ register });
}

/** The registry every metric above lives in. */
export { register as metricsRegistry };

import type { GatewayOptions } from "../config/options.js";
import { metricsInterceptor } from "../observability/metrics-interceptor.js";
import { streamMetricsInterceptor } from "../observability/stream-metrics-interceptor.js";
import { tracingInterceptor } from "../observability/tracing-interceptor.js";
import { cacheInterceptor } from "./cache/interceptor.js";
import type { CacheConfig } from "./cache/policy.js";
import type { CircuitBreakerConfig } from "./circuit-breaker/config.js";
import { circuitBreakerInterceptor } from "./circuit-breaker/interceptor.js";
import { faultInjectionInterceptor } from "./fault-injection.js";
import type { Interceptor } from "./interceptor.js";
import type { RetryBudget } from "./retry/policy.js";
import { retryInterceptor } from "./retry/retry.js";
import { type StreamDrain, streamDrainInterceptor } from "./stream-drain.js";

declare module "../config/options.js" {
  interface GatewayOptions {
    /** Retries in flight per backend stay under this share of requests in flight (`backends.retryBudget`). */
    readonly retryBudget?: RetryBudget;
    /** Every backend's circuit breaker (`backends.circuitBreaker`). */
    readonly circuitBreaker?: CircuitBreakerConfig;
    /** Circuit breakers of single backends by address (`backends.circuitBreakers`). */
    readonly circuitBreakers?: Readonly<Record<string, CircuitBreakerConfig>>;
    /** The response cache's store and bounds (`cache:`); per-route policies are in RouteSettings.cache. */
    readonly cache?: CacheConfig;
  }
}

/** What an interceptor may use from the gateway that builds it. */
export interface InterceptorContext {
  readonly log: { info(m: string): void; warn(m: string): void; error(m: string): void };
  /** The gateway's open streams, ended before the drain deadline at shutdown (one per gateway). */
  readonly drain?: StreamDrain;
}

/** Builds an interceptor from the gateway's options; undefined when it has nothing to do. */
export type InterceptorFactory = (
  options: GatewayOptions,
  ctx: InterceptorContext,
) => Interceptor | undefined;

/**
 * Every call interceptor, outermost first: the first sees the call before the others and its answer
 * after them. The one place their order is declared (docs/request-flow.md explains it):
 *   stream drain -> cache -> retry -> circuit breaker -> metrics -> tracing -> fault injection -> target
 * Unary calls go through `wrap`, streams through `wrapStream` of those that have one (stream drain,
 * retry, circuit breaker, stream metrics, tracing), in the same order. The stream drain is outermost so
 * that a stream it ends at shutdown is ended for the client at once, whatever the chain inside is doing
 * (a retry's backoff included).
 * The cache is outermost so that a hit calls nothing (no retry, no breaker admission, no upstream
 * metrics or CLIENT span, no fault), and a miss is filled once through the whole chain however many
 * requests wait for it.
 * Retry is outside the breaker so that each attempt is admitted and counted by it; metrics and the
 * CLIENT span measure attempts that go upstream (not the breaker's refusals); faults are innermost so
 * that everything outside sees an injected failure as the backend's.
 */
export const INTERCEPTORS: readonly InterceptorFactory[] = [
  (_options, ctx) => (ctx.drain ? streamDrainInterceptor(ctx.drain) : undefined),
  (options, ctx) => cacheInterceptor(options.cache, ctx.log),
  (options) => retryInterceptor(options.retryBudget),
  (options) => circuitBreakerInterceptor(options.circuitBreaker, options.circuitBreakers),
  // per attempt the backend really gets: the upstream duration and the call's notes, then the CLIENT
  // span, so that its traceparent is the one the backend receives
  metricsInterceptor,
  streamMetricsInterceptor, // the same for streams: active streams, messages, duration with the code
  tracingInterceptor,
  () => faultInjectionInterceptor(),
];

/** The interceptors the options turn on, in INTERCEPTORS order. */
export function buildInterceptors(options: GatewayOptions, ctx: InterceptorContext): Interceptor[] {
  const out: Interceptor[] = [];
  for (const make of INTERCEPTORS) {
    const i = make(options, ctx);
    if (i) out.push(i);
  }
  return out;
}

import type { GatewayOptions } from "../config/options.js";
import { metricsInterceptor } from "../observability/metrics-interceptor.js";
import { tracingInterceptor } from "../observability/tracing-interceptor.js";
import type { Interceptor } from "./interceptor.js";

/** What an interceptor may use from the gateway that builds it. */
export interface InterceptorContext {
  readonly log: { info(m: string): void; warn(m: string): void; error(m: string): void };
}

/** Builds an interceptor from the gateway's options; undefined when it has nothing to do. */
export type InterceptorFactory = (
  options: GatewayOptions,
  ctx: InterceptorContext,
) => Interceptor | undefined;

/**
 * Every call interceptor, outermost first: the first sees the call before the others and its answer
 * after them. The one place their order is declared (docs/request-flow.md explains it).
 */
export const INTERCEPTORS: readonly InterceptorFactory[] = [
  // per attempt (inside retry, when it lands): the upstream duration and the call's notes, then the
  // CLIENT span, innermost so that its traceparent is the one the backend gets
  metricsInterceptor,
  tracingInterceptor,
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

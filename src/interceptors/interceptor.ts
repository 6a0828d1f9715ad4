import type { Route } from "../routing/route.js";
import type { Invoke } from "../upstream/call.js";
import type { UnaryTarget } from "../upstream/target.js";

/**
 * Behaviour around every upstream call (retry, circuit breaker, cache, metrics, tracing, fault
 * injection), in the spirit of undici's interceptors: `wrap(next)` returns an Invoke that does its work
 * and calls `next`, or `next` itself when this route needs nothing from it, so that a feature that is off
 * costs nothing per request. Wrapped once per route when the routes are compiled.
 */
export interface Interceptor {
  /** A short name for docs and `protogate routes` ("retry", "metrics"). */
  readonly name: string;
  /** Wraps `next` for one route; `target` is what the chain ends in. */
  wrap(next: Invoke, route: Route, target: UnaryTarget): Invoke;
  /** What `/_protogate/status` shows of it (breaker states...), under its name. */
  status?(): Record<string, unknown>;
  /** Releases what the interceptor holds (timers, connections) when the gateway closes. */
  close?(): Promise<void> | void;
}

/**
 * The chain of one route: `interceptors[0]` is outermost (sees the call first and the answer last), the
 * target's invoke innermost. Interceptors that return `next` unchanged add no frame.
 */
export function compose(interceptors: readonly Interceptor[], route: Route, target: UnaryTarget): Invoke {
  let invoke = target.invoke;
  for (let i = interceptors.length - 1; i >= 0; i--) invoke = interceptors[i]!.wrap(invoke, route, target);
  return invoke;
}

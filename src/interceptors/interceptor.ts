import type { Route } from "../routing/route.js";
import type { Invoke } from "../upstream/call.js";
import type { StreamControl, StreamOpen, StreamSink, StreamTarget, UnaryTarget } from "../upstream/target.js";

/**
 * Starts one streaming call: a StreamTarget's `open`, or an interceptor's wrapper of it. Same contract
 * as StreamTarget.open: throws nothing, `sink` callbacks never come synchronously from it, `onEnd`
 * exactly once, last.
 */
export type OpenStream = (call: StreamOpen, sink: StreamSink) => StreamControl;

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
  /**
   * Wraps the `open` of a streaming route's target (server, client or bidi streaming), in the same
   * order as `wrap`. Optional: an interceptor without it leaves streams untouched and adds no frame to
   * them; returning `next` unchanged does the same for one route.
   */
  wrapStream?(next: OpenStream, route: Route, target: StreamTarget): OpenStream;
  /** What `/_protogate/status` shows of it (breaker states...), under its name. */
  status?(): Record<string, unknown>;
  /** Releases what the interceptor holds (timers, connections) when the gateway closes. */
  close?(): Promise<void> | void;
}

const ON_DEMAND = Symbol("protogate.transcodesOnDemand");

/**
 * Marks the invoke of an interceptor that reads a call's `message` and `encoded` only when it needs
 * them, and then synchronously, inside its invoke, before anything it does later (the cache: a fresh
 * hit needs neither). When the outermost invoke of a route carries the mark, the handler leaves the
 * transcoding to it: a request's 400 still reaches the client from inside the handler's call to
 * invoke, and a hit costs no transcoding. Returns `invoke`.
 */
export function transcodesOnDemand(invoke: Invoke): Invoke {
  (invoke as Invoke & { [ON_DEMAND]?: true })[ON_DEMAND] = true;
  return invoke;
}

/** Whether `invoke` was marked by transcodesOnDemand (an unmarked one gets transcoded calls). */
export function isOnDemand(invoke: Invoke): boolean {
  return (invoke as Invoke & { [ON_DEMAND]?: true })[ON_DEMAND] === true;
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

/**
 * The stream chain of one route: `target` itself when no interceptor wraps streams for it, else a copy
 * whose `open` runs the interceptors' `wrapStream`s, `interceptors[0]` outermost, then the target's own
 * `open`. The HTTP side (src/server/streaming/) calls `open` without knowing what wraps it.
 */
export function composeStream(
  interceptors: readonly Interceptor[],
  route: Route,
  target: StreamTarget,
): StreamTarget {
  const own: OpenStream = (call, sink) => target.open(call, sink);
  let open = own;
  for (let i = interceptors.length - 1; i >= 0; i--) {
    const wrapStream = interceptors[i]!.wrapStream;
    if (wrapStream) open = wrapStream.call(interceptors[i], open, route, target);
  }
  return open === own ? target : { ...target, open };
}

import { isLocalRejection } from "../../errors/local-rejection.js";
import type { StreamControl } from "../../upstream/target.js";
import type { Interceptor, OpenStream } from "../interceptor.js";
import { Breaker, type BreakerState } from "./breaker.js";
import { type CircuitBreakerConfig, DEFAULT_CIRCUIT_BREAKER } from "./config.js";

/** What `/_protogate/status` shows of one backend's breaker. */
export interface BreakerStatus {
  readonly state: BreakerState;
  readonly inFlight: number;
  readonly rejected: number;
  readonly opened: number;
  /** When an open circuit lets a probe through (ISO time). */
  readonly retryAt?: string;
}

/** The circuit-breaker interceptor with the state of every backend's breaker, for the status page. */
export interface CircuitBreakers extends Interceptor {
  status(): Record<string, BreakerStatus>;
}

/**
 * A breaker per backend (target.upstream), shared by every route to it and kept across reloads. Each
 * attempt (retries included: this runs inside the retry interceptor) is admitted or refused; its outcome
 * counts as a failure only when its code is one of `failureCodes` (server-side failures) and the
 * backend was really called (not a refusal of our own). A stream counts in the in-flight limit for as
 * long as it is open, and its final status is its outcome.
 */
export function circuitBreakerInterceptor(
  defaults: CircuitBreakerConfig = DEFAULT_CIRCUIT_BREAKER,
  perBackend: Readonly<Record<string, CircuitBreakerConfig>> = {},
): CircuitBreakers {
  const breakers = new Map<string, Breaker>();
  /** The breaker of a backend, shared by its unary calls and streams; undefined when it does nothing. */
  const breakerOf = (key: string): Breaker | undefined => {
    if (key === "") return undefined; // a target with no upstream (a method without a backend)
    const config = perBackend[key] ?? defaults;
    if (config.maxRequests === 0 && !config.failureBreaker) return undefined;
    let breaker = breakers.get(key);
    if (!breaker) breakers.set(key, (breaker = new Breaker(config, key)));
    return breaker;
  };
  return {
    name: "circuitBreaker",
    wrap(next, _route, target) {
      const b = breakerOf(target.upstream);
      if (!b) return next;
      const failureCodes = b.config.failureCodes;
      // Without the failure breaker the circuit never opens: admit and record only count the call in and
      // out, and read no clock.
      const counts = b.config.failureBreaker;
      return (call, done) => {
        const admitted = b.admit(counts ? Date.now() : 0);
        if (!("probe" in admitted)) {
          queueMicrotask(() => done(admitted, undefined));
          return noop;
        }
        return next(call, (err, result) => {
          const failed = err !== undefined && failureCodes.includes(err.code) && !isLocalRejection(err);
          b.record(failed, admitted.probe, counts ? Date.now() : 0);
          done(err, result);
        });
      };
    },
    wrapStream(next, _route, target) {
      const b = breakerOf(target.upstream);
      return b ? breakStream(next, b) : next;
    },
    status() {
      const out: Record<string, BreakerStatus> = {};
      for (const [key, b] of breakers) {
        out[key] = {
          state: b.state,
          inFlight: b.inFlight,
          rejected: b.rejected,
          opened: b.opened,
          ...(b.retryAt ? { retryAt: new Date(b.retryAt).toISOString() } : {}),
        };
      }
      return out;
    },
  };
}

/**
 * A stream through a breaker: admitted when it opens (a refusal ends it before any message, with the
 * breaker's 503 and Retry-After), counted in the in-flight limit until it ends, and its final status
 * recorded as a unary call's outcome.
 */
function breakStream(next: OpenStream, b: Breaker): OpenStream {
  const failureCodes = b.config.failureCodes;
  return (call, sink) => {
    const admitted = b.admit(Date.now());
    if (!("probe" in admitted)) {
      queueMicrotask(() => sink.onEnd(admitted, {}));
      return REFUSED;
    }
    return next(call, {
      onHeaders: (h) => sink.onHeaders(h),
      onMessage: (m) => sink.onMessage(m),
      onDrain: () => sink.onDrain(),
      onEnd(err, trailers) {
        const failed = err !== undefined && failureCodes.includes(err.code) && !isLocalRejection(err);
        b.record(failed, admitted.probe, Date.now());
        sink.onEnd(err, trailers);
      },
    });
  };
}

/** The control of a stream the breaker refused: it has ended (onEnd is on its way). */
const REFUSED: StreamControl = { write: () => true, end: noop, cancel: noop, pause: noop, resume: noop };

function noop(): void {}

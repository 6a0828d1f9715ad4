import type { Interceptor } from "../interceptor.js";
import { isLocalRejection } from "../local-rejection.js";
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
 * backend was really called (not a refusal of our own).
 */
export function circuitBreakerInterceptor(
  defaults: CircuitBreakerConfig = DEFAULT_CIRCUIT_BREAKER,
  perBackend: Readonly<Record<string, CircuitBreakerConfig>> = {},
): CircuitBreakers {
  const breakers = new Map<string, Breaker>();
  return {
    name: "circuitBreaker",
    wrap(next, _route, target) {
      const key = target.upstream;
      const config = perBackend[key] ?? defaults;
      if (config.maxRequests === 0 && !config.failureBreaker) return next;
      let breaker = breakers.get(key);
      if (!breaker) breakers.set(key, (breaker = new Breaker(config, key)));
      const b = breaker;
      const failureCodes = config.failureCodes;
      return (call, done) => {
        const admitted = b.admit(Date.now());
        if (!("probe" in admitted)) {
          queueMicrotask(() => done(admitted, undefined));
          return noop;
        }
        return next(call, (err, result) => {
          const failed = err !== undefined && failureCodes.includes(err.code) && !isLocalRejection(err);
          b.record(failed, admitted.probe, Date.now());
          done(err, result);
        });
      };
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

function noop(): void {}

import { parseDurationMs } from "../../config/duration.js";
import { LoadError } from "../../config/load-error.js";
import { asObject, onlyKeys } from "../../config/validate.js";
import { Code } from "../../errors/code.js";
import { readCodes } from "../retry/policy.js";

/**
 * A backend's circuit breaker (`backends.circuitBreaker`, per address in `backends.circuitBreakers`).
 * Two limits: requests in flight (overflow is an immediate 503), and the failure breaker, which opens
 * after `consecutiveFailures` server-side failures in a row, or when `failureRatio` of at least
 * `minRequests` calls in the last `windowMs` failed; open for `openMs`, then half-open for
 * `halfOpenProbes` calls at a time.
 */
export interface CircuitBreakerConfig {
  /** Calls in flight to the backend at most; 0 for no limit. Default 1024 (Envoy's). */
  readonly maxRequests: number;
  /** Whether the failure breaker is on (it is when the config names any of its keys). */
  readonly failureBreaker: boolean;
  readonly consecutiveFailures: number;
  readonly failureRatio: number;
  readonly minRequests: number;
  readonly windowMs: number;
  readonly openMs: number;
  readonly halfOpenProbes: number;
  /** The gRPC codes that count as the backend's failure; client errors never do. */
  readonly failureCodes: readonly number[];
}

export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerConfig = {
  maxRequests: 1024,
  failureBreaker: false,
  consecutiveFailures: 5,
  failureRatio: 0.5,
  minRequests: 20,
  windowMs: 10_000,
  openMs: 5_000,
  halfOpenProbes: 1,
  failureCodes: [Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED, Code.INTERNAL, Code.UNKNOWN],
};

/** Codes that are the client's fault: a breaker never counts them, whatever `failureCodes` says. */
const CLIENT_CODES: ReadonlySet<number> = new Set([
  Code.CANCELLED,
  Code.INVALID_ARGUMENT,
  Code.NOT_FOUND,
  Code.ALREADY_EXISTS,
  Code.PERMISSION_DENIED,
  Code.FAILED_PRECONDITION,
  Code.OUT_OF_RANGE,
  Code.UNAUTHENTICATED,
]);

const FAILURE_KEYS = [
  "consecutiveFailures",
  "failureRatio",
  "minRequests",
  "window",
  "openFor",
  "halfOpenProbes",
  "failureCodes",
];

/**
 * `circuitBreaker: { maxRequests: 1024, consecutiveFailures: 5, failureRatio: 0.5, minRequests: 20,
 * window: 10s, openFor: 5s, halfOpenProbes: 1, failureCodes: [UNAVAILABLE, ...] }` over `base`.
 * Throws LoadError (CONFIG_INVALID) naming `where`.
 */
export function readCircuitBreaker(
  v: unknown,
  where: string,
  base = DEFAULT_CIRCUIT_BREAKER,
): CircuitBreakerConfig {
  const o = asObject(v, where);
  onlyKeys(o, ["maxRequests", ...FAILURE_KEYS], where);
  const int = (key: string, min: number, fallback: number): number => {
    const x = o[key];
    if (x === undefined) return fallback;
    if (!Number.isInteger(x) || (x as number) < min)
      throw new LoadError("CONFIG_INVALID", `${where}.${key}`, `expected a whole number >= ${min}`);
    return x as number;
  };
  const ms = (key: string, fallback: number): number => {
    if (o[key] === undefined) return fallback;
    const x = parseDurationMs(o[key]);
    if (!x) throw new LoadError("CONFIG_INVALID", `${where}.${key}`, 'expected a duration such as "10s"');
    return x;
  };
  const ratio = o.failureRatio ?? base.failureRatio;
  if (typeof ratio !== "number" || !(ratio > 0 && ratio <= 1))
    throw new LoadError("CONFIG_INVALID", `${where}.failureRatio`, "expected a number in (0, 1]");
  const failureCodes =
    o.failureCodes === undefined ? base.failureCodes : readCodes(o.failureCodes, `${where}.failureCodes`);
  const client = failureCodes.filter((c) => CLIENT_CODES.has(c));
  if (client.length > 0)
    throw new LoadError(
      "CONFIG_INVALID",
      `${where}.failureCodes`,
      "client errors (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, UNAUTHENTICATED, ...) never count as a backend's failure",
    );
  return {
    maxRequests: int("maxRequests", 0, base.maxRequests),
    failureBreaker: base.failureBreaker || FAILURE_KEYS.some((k) => o[k] !== undefined),
    consecutiveFailures: int("consecutiveFailures", 1, base.consecutiveFailures),
    failureRatio: ratio,
    minRequests: int("minRequests", 1, base.minRequests),
    windowMs: ms("window", base.windowMs),
    openMs: ms("openFor", base.openMs),
    halfOpenProbes: int("halfOpenProbes", 1, base.halfOpenProbes),
    failureCodes,
  };
}

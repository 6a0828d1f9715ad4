import { parseDurationMs } from "../../config/duration.js";
import { LoadError } from "../../config/load-error.js";
import { checkShape } from "../../config/schema-check.js";
import { duration, type JsonSchema, object } from "../../config/schema-kit.js";
import { Code } from "../../errors/code.js";
import { codeNamesSchema, codesOf } from "../retry/policy.js";

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
] as const;

const count = (description: string, minimum: number, dflt: number): JsonSchema => ({
  description,
  type: "integer",
  minimum,
  default: dflt,
});

/** `backends.circuitBreaker:` and each entry of `backends.circuitBreakers:` (by backend address). */
export const circuitBreakerSchema: JsonSchema = object(
  "A backend's circuit breaker: an in-flight limit, and a failure breaker that any of its keys turns on.",
  {
    maxRequests: count(
      "Calls in flight to the backend at most (0: no limit); over it: 503 at once.",
      0,
      1024,
    ),
    consecutiveFailures: count("Server-side failures in a row that open the circuit.", 1, 5),
    failureRatio: {
      description: "Share of failed calls in the window that opens the circuit.",
      type: "number",
      exclusiveMinimum: 0,
      maximum: 1,
      default: 0.5,
    },
    minRequests: count("Calls in the window before the ratio counts.", 1, 20),
    window: duration("The sliding window of the failure ratio.", { default: "10s", positive: true }),
    openFor: duration("How long the circuit stays open before a probe.", { default: "5s", positive: true }),
    halfOpenProbes: count("Calls let through at a time while half-open.", 1, 1),
    failureCodes: {
      ...codeNamesSchema,
      description:
        "gRPC codes that count as the backend's failure; client errors (INVALID_ARGUMENT, NOT_FOUND, ...) never do.",
      default: ["UNAVAILABLE", "DEADLINE_EXCEEDED", "INTERNAL", "UNKNOWN"],
    },
  },
);

/** Reads a `circuitBreaker:` entry over `base`; throws LoadError (CONFIG_INVALID) naming `where`. */
export function readCircuitBreaker(
  v: unknown,
  where: string,
  base = DEFAULT_CIRCUIT_BREAKER,
): CircuitBreakerConfig {
  const o = checkShape<{
    maxRequests?: number;
    consecutiveFailures?: number;
    failureRatio?: number;
    minRequests?: number;
    window?: string | number;
    openFor?: string | number;
    halfOpenProbes?: number;
    failureCodes?: string | string[];
  }>(circuitBreakerSchema, v, where);
  const failureCodes = o.failureCodes === undefined ? base.failureCodes : codesOf(o.failureCodes);
  if (failureCodes.some((c) => CLIENT_CODES.has(c)))
    throw new LoadError(
      "CONFIG_INVALID",
      `${where}.failureCodes`,
      "client errors (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, UNAUTHENTICATED, ...) never count as a backend's failure",
    );
  return {
    maxRequests: o.maxRequests ?? base.maxRequests,
    failureBreaker: base.failureBreaker || FAILURE_KEYS.some((k) => o[k] !== undefined),
    consecutiveFailures: o.consecutiveFailures ?? base.consecutiveFailures,
    failureRatio: o.failureRatio ?? base.failureRatio,
    minRequests: o.minRequests ?? base.minRequests,
    windowMs: o.window === undefined ? base.windowMs : parseDurationMs(o.window)!,
    openMs: o.openFor === undefined ? base.openMs : parseDurationMs(o.openFor)!,
    halfOpenProbes: o.halfOpenProbes ?? base.halfOpenProbes,
    failureCodes,
  };
}

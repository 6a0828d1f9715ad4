import { Code } from "../../errors/code.js";
import type { GatewayError } from "../../errors/gateway-error.js";
import { isLocalRejection } from "../../errors/local-rejection.js";
import type { Route } from "../../routing/route.js";
import type { RetryPolicy } from "./policy.js";
import { serverPushbackMs } from "./pushback.js";

/** What the retry rules need to know about a failed attempt, unary or stream. */
export interface FailedAttempt {
  /** Attempts made so far, this one included (1 after the first). */
  readonly attempt: number;
  readonly policy: RetryPolicy;
  /** Whether the call may be repeated after the backend may have seen it (see retry.ts isIdempotent). */
  readonly mayRepeat: boolean;
  /** Epoch ms by which every attempt must be over; 0 for no deadline. */
  readonly deadline: number;
  /** Whether this attempt's deadline was its per-try timeout (a DEADLINE_EXCEEDED is then retried). */
  readonly perTryBound: boolean;
}

/**
 * The rules of a retry, shared by unary calls and streams (retry.ts, stream-retry.ts): the wait before
 * the next attempt in ms, or undefined when `err` is final: its code is not in the policy (a per-try
 * timeout aside), the attempts are spent, the gateway refused it itself, the call may not be repeated,
 * the server's pushback says never (gRFC A6), or the wait would pass the deadline. The retry budget is
 * the caller's to take after this.
 */
export function retryDelayMs(err: GatewayError, f: FailedAttempt): number | undefined {
  const timedOutThisTry = err.code === Code.DEADLINE_EXCEEDED && f.perTryBound;
  if (!f.policy.codes.includes(err.code) && !timedOutThisTry) return undefined;
  if (f.attempt >= f.policy.attempts || isLocalRejection(err)) return undefined;
  if (!f.mayRepeat) return undefined;
  const pushback = serverPushbackMs(err);
  if (pushback === -1) return undefined;
  const delay = pushback ?? backoffMs(f.policy, f.attempt);
  if (f.deadline !== 0 && Date.now() + delay >= f.deadline) return undefined;
  return delay;
}

/**
 * Full jitter (AWS architecture blog, "Exponential Backoff and Jitter"): uniform in [0, cap], the cap
 * `initialBackoffMs * backoffMultiplier^(attempt-1)` up to `maxBackoffMs`.
 */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  const { initialBackoffMs, backoffMultiplier, maxBackoffMs } = policy;
  const cap = Math.min(maxBackoffMs, initialBackoffMs * backoffMultiplier ** (attempt - 1));
  return Math.random() * cap;
}

/**
 * Whether a call may be sent again after the backend may have processed it: its method is idempotent
 * (proto `idempotency_level` NO_SIDE_EFFECTS or IDEMPOTENT, or `idempotent: true` in a mapping file),
 * its route is a safe HTTP method (GET, HEAD: RFC 9110 section 9.2.1), or the client sent an
 * Idempotency-Key (the backend can deduplicate).
 */
export function isIdempotent(route: Route): boolean {
  return (
    route.settings.idempotent === true ||
    route.method.idempotencyLevel !== "IDEMPOTENCY_UNKNOWN" ||
    route.httpMethod === "GET" ||
    route.httpMethod === "HEAD"
  );
}

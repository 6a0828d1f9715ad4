import { Code } from "../../errors/code.js";
import { GatewayError } from "../../errors/gateway-error.js";
import type { Route } from "../../routing/route.js";
import type { Cancel, Done, Invoke, UpstreamCall, UpstreamResult } from "../../upstream/call.js";
import type { Interceptor } from "../interceptor.js";
import { isLocalRejection } from "../local-rejection.js";
import { BackendBudget } from "./budget.js";
import { DEFAULT_RETRY, DEFAULT_RETRY_BUDGET, type RetryBudget, type RetryPolicy } from "./policy.js";
import { serverPushbackMs } from "./pushback.js";

declare module "../../routing/route.js" {
  interface RouteSettings {
    /** How this route's calls are retried; fields left out take DEFAULT_RETRY's. */
    readonly retry?: Partial<RetryPolicy> | undefined;
    /**
     * Declares the method idempotent though its proto does not say so (`idempotency_level`): its calls
     * may be retried after the backend may have seen them.
     */
    readonly idempotent?: boolean | undefined;
  }
}

/** Metadata telling the backend how many attempts came before this one (gRFC A6). */
const PREVIOUS_ATTEMPTS = "grpc-previous-rpc-attempts";

/**
 * Retries a unary call per the route's policy. Nothing has been written to the client before the
 * answer is complete, so a status in trailers is retried like one in headers. A call is repeated only
 * when that cannot duplicate a side effect (`mayRepeat`); transparent retries of streams the server
 * never processed happen below, in the gRPC client. Every attempt is bounded by the call's deadline
 * (all attempts together) and by the per-try timeout; a retry waits a full-jitter backoff or the
 * server's pushback, and needs room in the backend's retry budget.
 */
export function retryInterceptor(budget: RetryBudget = DEFAULT_RETRY_BUDGET): Interceptor {
  const budgets = new Map<string, BackendBudget>();
  return {
    name: "retry",
    wrap(next, route, target) {
      const policy: RetryPolicy = { ...DEFAULT_RETRY, ...route.settings.retry };
      if (policy.attempts <= 1 && policy.perTryTimeoutMs === 0) return next;
      let backend = budgets.get(target.upstream);
      if (!backend) budgets.set(target.upstream, (backend = new BackendBudget(budget)));
      const idempotent = isIdempotent(route);
      const shared = backend;
      return (call, done) => new RetryingCall(next, call, done, policy, idempotent, shared).cancel;
    },
  };
}

/**
 * Whether a call may be sent again after the backend may have processed it: its method is idempotent
 * (proto `idempotency_level` NO_SIDE_EFFECTS or IDEMPOTENT, or `idempotent: true` in a mapping file),
 * its route is a safe HTTP method (GET, HEAD: RFC 9110 section 9.2.1), or the client sent an
 * Idempotency-Key (the backend can deduplicate).
 */
function isIdempotent(route: Route): boolean {
  return (
    route.settings.idempotent === true ||
    route.method.idempotencyLevel !== "IDEMPOTENCY_UNKNOWN" ||
    route.httpMethod === "GET" ||
    route.httpMethod === "HEAD"
  );
}

class RetryingCall {
  private attempt = 0;
  private cancelAttempt: Cancel | undefined;
  private timer: NodeJS.Timeout | undefined;
  private finished = false;
  private holdsRetry = false;
  private readonly deadline: number;

  constructor(
    private readonly next: Invoke,
    private readonly call: UpstreamCall,
    private readonly done: Done,
    private readonly policy: RetryPolicy,
    private readonly idempotent: boolean,
    private readonly budget: BackendBudget,
  ) {
    this.deadline = call.timeoutMs > 0 ? Date.now() + call.timeoutMs : 0;
    budget.requests++;
    this.start();
  }

  readonly cancel = (): void => {
    if (this.finished) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.finish(new GatewayError(Code.CANCELLED, "cancelled by the client"), undefined);
      return;
    }
    this.cancelAttempt?.(); // the attempt ends with CANCELLED, which is never retried
  };

  private start(): void {
    this.attempt++;
    if (this.attempt > 1) this.call.metadata.set(PREVIOUS_ATTEMPTS, String(this.attempt - 1));
    const left = this.deadline === 0 ? 0 : Math.max(1, this.deadline - Date.now());
    const perTry = this.policy.perTryTimeoutMs;
    const timeoutMs = perTry > 0 && (left === 0 || perTry < left) ? perTry : left;
    const perTryBound = timeoutMs !== left;
    const attemptCall = this.attempt === 1 && !perTryBound ? this.call : { ...this.call, timeoutMs };
    this.cancelAttempt = this.next(attemptCall, (err, result) => {
      this.cancelAttempt = undefined;
      if (this.holdsRetry) {
        this.holdsRetry = false;
        this.budget.retryDone();
      }
      if (err && !this.finished && this.retryAfter(err, perTryBound)) return;
      this.finish(err, result);
    });
  }

  /** Schedules the next attempt when this error allows one; false when the error is final. */
  private retryAfter(err: GatewayError, perTryBound: boolean): boolean {
    const code = err.code;
    const timedOutThisTry = code === Code.DEADLINE_EXCEEDED && perTryBound;
    if (!this.policy.codes.includes(code) && !timedOutThisTry) return false;
    if (this.attempt >= this.policy.attempts || isLocalRejection(err)) return false;
    if (!this.idempotent && this.call.idempotencyKey === undefined) return false;
    const pushback = serverPushbackMs(err);
    if (pushback === -1) return false;
    const delay = pushback ?? this.backoffMs();
    if (this.deadline !== 0 && Date.now() + delay >= this.deadline) return false;
    if (!this.budget.tryRetry()) return false;
    this.holdsRetry = true;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.start();
    }, delay);
    return true;
  }

  /** Full jitter (AWS architecture blog, "Exponential Backoff and Jitter"): uniform in [0, cap]. */
  private backoffMs(): number {
    const { initialBackoffMs, backoffMultiplier, maxBackoffMs } = this.policy;
    const cap = Math.min(maxBackoffMs, initialBackoffMs * backoffMultiplier ** (this.attempt - 1));
    return Math.random() * cap;
  }

  private finish(err: GatewayError | undefined, result: UpstreamResult | undefined): void {
    if (this.finished) return;
    this.finished = true;
    if (this.holdsRetry) {
      this.holdsRetry = false;
      this.budget.retryDone();
    }
    this.budget.requests--;
    this.done(err ? withRetryAfter(err) : undefined, result);
  }
}

/**
 * A 429 or 503 tells the REST client when to come back (`Retry-After`, RFC 9110 section 10.2.3) when
 * the server gave a pushback or RetryInfo and no Retry-After is set yet.
 */
function withRetryAfter(err: GatewayError): GatewayError {
  if ((err.code !== Code.UNAVAILABLE && err.code !== Code.RESOURCE_EXHAUSTED) || err.headers?.["retry-after"])
    return err;
  const ms = serverPushbackMs(err);
  if (ms === undefined || ms < 0) return err;
  return new GatewayError(err.code, err.message, {
    details: err.details,
    httpStatus: err.httpStatus,
    headers: { ...err.headers, "retry-after": String(Math.max(1, Math.ceil(ms / 1000))) },
    cause: err.cause,
  });
}

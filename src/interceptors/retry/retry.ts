import { Code } from "../../errors/code.js";
import { GatewayError } from "../../errors/gateway-error.js";
import {
  type Cancel,
  type Done,
  type Invoke,
  type UpstreamCall,
  type UpstreamResult,
  withTimeout,
} from "../../upstream/call.js";
import type { Interceptor } from "../interceptor.js";
import { BackendBudget } from "./budget.js";
import { isIdempotent, retryDelayMs } from "./decide.js";
import { DEFAULT_RETRY, DEFAULT_RETRY_BUDGET, type RetryBudget, type RetryPolicy } from "./policy.js";
import { withRetryAfter } from "./pushback.js";
import { PREVIOUS_ATTEMPTS, RetryingStream } from "./stream-retry.js";

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

/**
 * Retries a unary call per the route's policy. Nothing has been written to the client before the
 * answer is complete, so a status in trailers is retried like one in headers. A call is repeated only
 * when that cannot duplicate a side effect (`mayRepeat`); transparent retries of streams the server
 * never processed happen below, in the gRPC client. Every attempt is bounded by the call's deadline
 * (all attempts together) and by the per-try timeout; a retry waits a full-jitter backoff or the
 * server's pushback, and needs room in the backend's retry budget.
 * Server streams are retried by the same rules before their first response message (stream-retry.ts);
 * client and bidi streams never.
 */
export function retryInterceptor(budget: RetryBudget = DEFAULT_RETRY_BUDGET): Interceptor {
  const budgets = new Map<string, BackendBudget>();
  /** One budget per backend, shared by its unary calls and streams. */
  const backendBudget = (upstream: string): BackendBudget => {
    let b = budgets.get(upstream);
    if (!b) budgets.set(upstream, (b = new BackendBudget(budget)));
    return b;
  };
  return {
    name: "retry",
    wrap(next, route, target) {
      const policy: RetryPolicy = { ...DEFAULT_RETRY, ...route.settings.retry };
      if (policy.attempts <= 1 && policy.perTryTimeoutMs === 0) return next;
      const idempotent = isIdempotent(route);
      const shared = backendBudget(target.upstream);
      if (policy.perTryTimeoutMs > 0)
        return (call, done) => new RetryingCall(next, call, done, policy, idempotent, shared).begin();
      // Most calls end with their first attempt: it runs without a RetryingCall, which is made only when
      // that attempt fails in a way the policy may retry.
      return (call, done) => {
        const deadline = call.timeoutMs > 0 ? Date.now() + call.timeoutMs : 0;
        shared.requests++;
        let retrying: RetryingCall | undefined;
        let answered = false;
        const cancelFirst = next(call, (err, result) => {
          if (err) {
            retrying = new RetryingCall(next, call, done, policy, idempotent, shared, deadline);
            retrying.afterFirst(err);
            return;
          }
          answered = true;
          shared.requests--;
          done(undefined, result);
        });
        return () => {
          if (retrying) retrying.cancel();
          else if (!answered) cancelFirst(); // the attempt ends with CANCELLED, which is never retried
        };
      };
    },
    wrapStream(next, route, target) {
      // Server streams of methods that may be repeated; client and bidi streams never (stream-retry.ts).
      const policy: RetryPolicy = { ...DEFAULT_RETRY, ...route.settings.retry };
      if (policy.attempts <= 1 || target.clientStreaming || !isIdempotent(route)) return next;
      const shared = backendBudget(target.upstream);
      return (call, sink) => new RetryingStream(next, call, sink, policy, shared);
    },
  };
}

/**
 * The attempts of one call after the first (or from the first, with a per-try timeout): `begin()`
 * makes the first attempt; `afterFirst(err)` takes over a first attempt made without it (the wrapper
 * above), whose `requests` count it then owns.
 */
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
    deadline?: number,
  ) {
    this.deadline = deadline ?? (call.timeoutMs > 0 ? Date.now() + call.timeoutMs : 0);
  }

  /** Makes the first attempt; returns the call's cancel. */
  begin(): Cancel {
    this.budget.requests++;
    this.start();
    return this.cancel;
  }

  /** The first attempt (made without a per-try bound) failed with `err`: retry it, or finish with it. */
  afterFirst(err: GatewayError): void {
    this.attempt = 1;
    if (!this.retryAfter(err, false)) this.finish(err, undefined);
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
    const attemptCall = this.attempt === 1 && !perTryBound ? this.call : withTimeout(this.call, timeoutMs);
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
    const delay = retryDelayMs(err, {
      attempt: this.attempt,
      policy: this.policy,
      mayRepeat: this.idempotent || this.call.idempotencyKey !== undefined,
      deadline: this.deadline,
      perTryBound,
    });
    if (delay === undefined || !this.budget.tryRetry()) return false;
    this.holdsRetry = true;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.start();
    }, delay);
    return true;
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

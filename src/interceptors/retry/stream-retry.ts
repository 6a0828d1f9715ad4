import { Code } from "../../errors/code.js";
import { GatewayError } from "../../errors/gateway-error.js";
import type { StreamControl, StreamOpen, StreamSink } from "../../upstream/target.js";
import type { OpenStream } from "../interceptor.js";
import type { BackendBudget } from "./budget.js";
import { retryDelayMs } from "./decide.js";
import type { RetryPolicy } from "./policy.js";
import { withRetryAfter } from "./pushback.js";

/** Metadata telling the backend how many attempts came before this one (gRFC A6). */
export const PREVIOUS_ATTEMPTS = "grpc-previous-rpc-attempts";

/**
 * One server-streaming call with retries. The call is committed once a response message has reached the
 * client (gRPC's own clients, gRFC A6, commit at the response headers: here the REST client has seen
 * nothing until the first message, and only idempotent methods are retried, so an attempt whose headers
 * came but no message may be repeated). An attempt that fails with a retryable code is started again, under
 * the unary rules (decide.ts: codes, attempts, idempotent methods only, pushback, the call's deadline
 * over all attempts, the backend's retry budget), only while:
 * - no response message has reached the sink (after the first one: never, the client has it);
 * - at most one request message was written (the one of a server stream; they are kept to be sent
 *   again);
 * - the client has not cancelled.
 * The backend's header metadata is held until the first message or the end, so that a failed attempt's
 * headers never reach the client. The per-try timeout does not apply: an attempt of a stream has no
 * natural end to bound. The call counts in the budget's requests while it may still be retried.
 * Client and bidi streams are not wrapped (retry.ts): their request messages arrive over time and may
 * already have been acted on, and keeping them all to send again would be unbounded buffering.
 */
export class RetryingStream implements StreamControl {
  private attempt = 0;
  private control: StreamControl | undefined;
  private timer: NodeJS.Timeout | undefined;
  private finished = false;
  private committed = false;
  private cancelled = false;
  private counted = true;
  private holdsRetry = false;
  /** Request messages written so far, while one at most: what a new attempt sends again. */
  private written: Buffer[] | undefined = [];
  private ended = false;
  private paused = false;
  private headers: Record<string, string[]> | undefined;
  private readonly deadline: number;

  constructor(
    private readonly next: OpenStream,
    private readonly call: StreamOpen,
    private readonly sink: StreamSink,
    private readonly policy: RetryPolicy,
    private readonly budget: BackendBudget,
  ) {
    this.deadline = call.timeoutMs > 0 ? Date.now() + call.timeoutMs : 0;
    budget.requests++;
    this.start();
  }

  write(encoded: Buffer): boolean {
    if (this.finished) return true;
    if (this.written) {
      if (this.written.length === 0) this.written.push(encoded);
      else this.written = undefined; // a second request message: never sent again
    }
    return this.control ? this.control.write(encoded) : true;
  }

  end(): void {
    if (this.finished || this.ended) return;
    this.ended = true;
    this.control?.end();
  }

  cancel(): void {
    if (this.finished) return;
    this.cancelled = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.finish(new GatewayError(Code.CANCELLED, "cancelled by the client"), {});
      return;
    }
    this.control?.cancel(); // the attempt ends with CANCELLED, never retried
  }

  pause(): void {
    this.paused = true;
    this.control?.pause();
  }

  resume(): void {
    this.paused = false;
    this.control?.resume();
  }

  private start(): void {
    this.attempt++;
    if (this.attempt > 1) this.call.metadata.set(PREVIOUS_ATTEMPTS, String(this.attempt - 1));
    const left = this.deadline === 0 ? 0 : Math.max(1, this.deadline - Date.now());
    const attemptCall = this.attempt === 1 ? this.call : { ...this.call, timeoutMs: left };
    this.control = this.next(attemptCall, {
      onHeaders: (headers) => {
        if (this.committed) this.sink.onHeaders(headers);
        else this.headers = headers;
      },
      onMessage: (message) => {
        if (this.finished) return;
        if (!this.committed) this.commit();
        this.sink.onMessage(message);
      },
      onEnd: (err, trailers) => this.attemptEnded(err, trailers),
      onDrain: () => this.sink.onDrain(),
    });
    if (this.attempt > 1) {
      for (const m of this.written ?? []) this.control.write(m);
      if (this.ended) this.control.end();
    }
    if (this.paused) this.control.pause();
  }

  /** The first response message: from now on the stream is the client's, never attempted again. */
  private commit(): void {
    this.committed = true;
    this.written = undefined;
    this.uncount();
    if (this.headers) this.sink.onHeaders(this.headers);
    this.headers = undefined;
  }

  private attemptEnded(err: GatewayError | undefined, trailers: Record<string, string[]>): void {
    if (this.finished) return;
    this.control = undefined;
    if (this.holdsRetry) {
      this.holdsRetry = false;
      this.budget.retryDone();
    }
    if (err && !this.committed && !this.cancelled && this.written) {
      const delay = retryDelayMs(err, {
        attempt: this.attempt,
        policy: this.policy,
        mayRepeat: true, // retry.ts wraps only the streams of methods that may be repeated
        deadline: this.deadline,
        perTryBound: false,
      });
      if (delay !== undefined && this.budget.tryRetry()) {
        this.holdsRetry = true;
        this.headers = undefined;
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.start();
        }, delay);
        return;
      }
    }
    this.finish(err, trailers);
  }

  private finish(err: GatewayError | undefined, trailers: Record<string, string[]>): void {
    this.finished = true;
    if (this.holdsRetry) {
      this.holdsRetry = false;
      this.budget.retryDone();
    }
    this.uncount();
    if (this.headers) this.sink.onHeaders(this.headers);
    this.headers = undefined;
    this.sink.onEnd(err && !this.committed ? withRetryAfter(err) : err, trailers);
  }

  private uncount(): void {
    if (!this.counted) return;
    this.counted = false;
    this.budget.requests--;
  }
}

import type { GatewayError } from "../../errors/gateway-error.js";
import { rejection } from "../../errors/local-rejection.js";
import type { CircuitBreakerConfig } from "./config.js";

export type BreakerState = "closed" | "open" | "half-open";

const BUCKETS = 10;
const PASS = Object.freeze({ probe: false });
const PROBE = Object.freeze({ probe: true });

/**
 * One backend's breaker. Closed: calls pass and their outcomes are counted. Open: calls fail fast with
 * 503 UNAVAILABLE and `Retry-After` for the time left. After `openMs`, half-open: up to `halfOpenProbes`
 * calls at a time go through; a probe that succeeds closes the breaker, one that fails opens it again.
 * The failure ratio is counted in a window of ten buckets (a sliding window of `windowMs`).
 */
export class Breaker {
  state: BreakerState = "closed";
  inFlight = 0;
  /** Calls refused (open circuit or concurrency limit) since start. */
  rejected = 0;
  opened = 0;
  private consecutive = 0;
  private openUntil = 0;
  private probes = 0;
  private readonly slots = new Array<number>(BUCKETS).fill(-1);
  private readonly totals = new Array<number>(BUCKETS).fill(0);
  private readonly failures = new Array<number>(BUCKETS).fill(0);

  constructor(
    readonly config: CircuitBreakerConfig,
    private readonly name: string,
  ) {}

  /**
   * Lets a call through (then `record` must follow) or returns the 503 to answer with. `probe` tells
   * `record` whether the call was a half-open probe. `now` (ms since the epoch) is read only when the
   * failure breaker is on: without it the circuit stays closed.
   */
  admit(now: number): { probe: boolean } | GatewayError {
    const c = this.config;
    if (c.maxRequests > 0 && this.inFlight >= c.maxRequests) {
      this.rejected++;
      return rejection("the service is busy, try again later", `concurrency limit of ${this.name}`, {
        headers: { "retry-after": "1" },
      });
    }
    if (this.state === "open") {
      if (now < this.openUntil) return this.refuse(now);
      this.state = "half-open";
      this.probes = 0;
    }
    if (this.state === "half-open") {
      if (this.probes >= c.halfOpenProbes) return this.refuse(now);
      this.probes++;
      this.inFlight++;
      return PROBE;
    }
    this.inFlight++;
    return PASS;
  }

  /** The outcome of an admitted call: `failed` when its code is one of the backend's failures. */
  record(failed: boolean, probe: boolean, now: number): void {
    this.inFlight--;
    if (!this.config.failureBreaker) return;
    if (probe) {
      this.probes--;
      if (failed) this.open(now);
      else if (this.state === "half-open") this.close();
      return;
    }
    if (this.state !== "closed") return; // a call admitted before the breaker opened
    this.count(failed, now);
    this.consecutive = failed ? this.consecutive + 1 : 0;
    if (this.consecutive >= this.config.consecutiveFailures || this.ratioExceeded(now)) this.open(now);
  }

  /** When the open circuit lets a probe through, epoch ms (0 unless open). */
  get retryAt(): number {
    return this.state === "open" ? this.openUntil : 0;
  }

  private refuse(now: number): GatewayError {
    this.rejected++;
    const seconds = Math.max(1, Math.ceil((this.openUntil - now) / 1000));
    return rejection("the service is unavailable, try again later", `circuit breaker of ${this.name} open`, {
      headers: { "retry-after": String(seconds) },
    });
  }

  private open(now: number): void {
    this.state = "open";
    this.opened++;
    this.openUntil = now + this.config.openMs;
    this.consecutive = 0;
  }

  private close(): void {
    this.state = "closed";
    this.consecutive = 0;
    this.slots.fill(-1);
  }

  private count(failed: boolean, now: number): void {
    const slot = Math.floor(now / (this.config.windowMs / BUCKETS));
    const i = slot % BUCKETS;
    if (this.slots[i] !== slot) {
      this.slots[i] = slot;
      this.totals[i] = 0;
      this.failures[i] = 0;
    }
    this.totals[i]!++;
    if (failed) this.failures[i]!++;
  }

  private ratioExceeded(now: number): boolean {
    const current = Math.floor(now / (this.config.windowMs / BUCKETS));
    let total = 0;
    let failed = 0;
    for (let i = 0; i < BUCKETS; i++) {
      if (this.slots[i]! <= current - BUCKETS) continue;
      total += this.totals[i]!;
      failed += this.failures[i]!;
    }
    return total >= this.config.minRequests && failed / total >= this.config.failureRatio;
  }
}

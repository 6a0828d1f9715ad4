/**
 * GCRA (the generic cell rate algorithm): a token bucket kept as one number per key, the theoretical
 * arrival time (TAT) of the next request. `rate` requests per `periodMs`, bursts of up to `burst`.
 */
export interface Limit {
  /** Policy name in the RateLimit headers. */
  readonly name: string;
  readonly rate: number;
  readonly periodMs: number;
  readonly burst: number;
}

export interface Decision {
  readonly allowed: boolean;
  /** Requests that could still be made now. */
  readonly remaining: number;
  /** ms until a request would be allowed (0 when allowed). */
  readonly retryAfterMs: number;
  /** ms until the bucket is full again. */
  readonly resetMs: number;
}

/** The emission interval and burst tolerance of a limit. */
export function params(limit: Limit): { interval: number; tolerance: number } {
  const interval = limit.periodMs / limit.rate;
  return { interval, tolerance: interval * limit.burst };
}

/** One GCRA step: given the stored TAT (or undefined), decide and return the TAT to store. */
export function step(
  tat: number | undefined,
  now: number,
  interval: number,
  tolerance: number,
): { decision: Decision; tat: number } {
  const base = tat === undefined || tat < now ? now : tat;
  const next = base + interval;
  const ahead = next - now;
  if (ahead > tolerance) {
    return {
      decision: { allowed: false, remaining: 0, retryAfterMs: ahead - tolerance, resetMs: base - now },
      tat: base,
    };
  }
  return {
    decision: {
      allowed: true,
      remaining: Math.floor((tolerance - ahead) / interval),
      retryAfterMs: 0,
      resetMs: ahead,
    },
    tat: next,
  };
}

import { parseDurationMs } from "../../config/duration.js";
import { LoadError } from "../../config/load-error.js";
import { asObject, onlyKeys } from "../../config/validate.js";
import { Code } from "../../errors/code.js";

/** Attempts a policy may ask for at most, the first included (gRPC's retry policy caps at 5 too). */
export const MAX_ATTEMPTS = 5;

/**
 * How a method's calls are retried (per method `retry:`, default in `defaults.retry`). A call is
 * retried only when it may be repeated without a second side effect: see `mayRepeat` in retry.ts.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included: 1 turns retries off. 1-5. */
  readonly attempts: number;
  /** gRPC codes that are retried; a per-try timeout is retried too. Default UNAVAILABLE. */
  readonly codes: readonly number[];
  /** Backoff before retry n: random in [0, min(max, initial * multiplier^(n-1))] ms (full jitter). */
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly backoffMultiplier: number;
  /** Deadline of each attempt, ms (0: only the call's own deadline, which bounds all attempts together). */
  readonly perTryTimeoutMs: number;
}

/** A retry budget per backend: retries in flight stay under `percent` of requests in flight, or `minRetries`. */
export interface RetryBudget {
  readonly percent: number;
  readonly minRetries: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 2,
  codes: [Code.UNAVAILABLE],
  initialBackoffMs: 25,
  maxBackoffMs: 1000,
  backoffMultiplier: 2,
  perTryTimeoutMs: 0,
};

/** Envoy's default retry budget: 20% of active requests, at least 3 retries. */
export const DEFAULT_RETRY_BUDGET: RetryBudget = { percent: 20, minRetries: 3 };

/** Code names as google.rpc.Code spells them ("UNAVAILABLE"), to their numbers. */
const CODE_BY_NAME = new Map(Object.entries(Code));

/**
 * `retry: { attempts: 3, codes: [UNAVAILABLE, RESOURCE_EXHAUSTED], backoff: { initial: 25ms, max: 1s,
 * multiplier: 2 }, perTryTimeout: 2s }`. Throws LoadError (CONFIG_INVALID) naming `where`.
 */
export function readRetryPolicy(v: unknown, where: string): Partial<RetryPolicy> {
  const o = asObject(v, where);
  onlyKeys(o, ["attempts", "codes", "backoff", "perTryTimeout"], where);
  const out: { -readonly [K in keyof RetryPolicy]?: RetryPolicy[K] } = {};
  if (o.attempts !== undefined) {
    if (!Number.isInteger(o.attempts) || (o.attempts as number) < 1 || (o.attempts as number) > MAX_ATTEMPTS)
      throw new LoadError(
        "CONFIG_INVALID",
        `${where}.attempts`,
        `expected a whole number from 1 to ${MAX_ATTEMPTS}`,
      );
    out.attempts = o.attempts as number;
  }
  if (o.codes !== undefined) out.codes = readCodes(o.codes, `${where}.codes`);
  if (o.backoff !== undefined) {
    const b = asObject(o.backoff, `${where}.backoff`);
    onlyKeys(b, ["initial", "max", "multiplier"], `${where}.backoff`);
    if (b.initial !== undefined) out.initialBackoffMs = duration(b.initial, `${where}.backoff.initial`);
    if (b.max !== undefined) out.maxBackoffMs = duration(b.max, `${where}.backoff.max`);
    if (b.multiplier !== undefined) {
      if (typeof b.multiplier !== "number" || !(b.multiplier >= 1))
        throw new LoadError("CONFIG_INVALID", `${where}.backoff.multiplier`, "expected a number >= 1");
      out.backoffMultiplier = b.multiplier;
    }
  }
  if (o.perTryTimeout !== undefined)
    out.perTryTimeoutMs = duration(o.perTryTimeout, `${where}.perTryTimeout`);
  return out;
}

/** `retryBudget: { percent: 20, minRetries: 3 }` under `backends:`. */
export function readRetryBudget(v: unknown, where: string): RetryBudget {
  const o = asObject(v, where);
  onlyKeys(o, ["percent", "minRetries"], where);
  const percent = o.percent ?? DEFAULT_RETRY_BUDGET.percent;
  const minRetries = o.minRetries ?? DEFAULT_RETRY_BUDGET.minRetries;
  if (typeof percent !== "number" || percent < 0 || percent > 100)
    throw new LoadError("CONFIG_INVALID", `${where}.percent`, "expected a number from 0 to 100");
  if (!Number.isInteger(minRetries) || (minRetries as number) < 0)
    throw new LoadError("CONFIG_INVALID", `${where}.minRetries`, "expected a whole number >= 0");
  return { percent, minRetries: minRetries as number };
}

/** A list of gRPC code names (`[UNAVAILABLE, INTERNAL]`); OK is not a failure and is refused. */
export function readCodes(v: unknown, where: string): number[] {
  const list = ([] as unknown[]).concat(v);
  return list.map((name, i) => {
    const code = typeof name === "string" ? CODE_BY_NAME.get(name) : undefined;
    if (code === undefined || code === Code.OK)
      throw new LoadError(
        "CONFIG_INVALID",
        `${where}[${i}]`,
        "expected a gRPC code name other than OK, such as UNAVAILABLE",
      );
    return code;
  });
}

function duration(v: unknown, where: string): number {
  const ms = parseDurationMs(v);
  if (ms === undefined) throw new LoadError("CONFIG_INVALID", where, 'expected a duration such as "250ms"');
  return ms;
}

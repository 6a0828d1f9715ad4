import { parseDurationMs } from "../../config/duration.js";
import { checkShape } from "../../config/schema-check.js";
import { duration, type JsonSchema, object, oneOf, oneOrMany } from "../../config/schema-kit.js";
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
const CODE_BY_NAME = new Map<string, number>(Object.entries(Code));
/** Every code name but OK (OK is never a failure). */
export const CODE_NAMES: readonly string[] = Object.keys(Code).filter((n) => n !== "OK");

/** gRPC code names other than OK, as a schema (`[UNAVAILABLE, INTERNAL]`). */
export const codeNamesSchema: JsonSchema = oneOrMany(
  "gRPC code names (google.rpc.Code), e.g. UNAVAILABLE.",
  oneOf("A gRPC code name other than OK.", CODE_NAMES),
);

/** Per-method `retry:` (config `defaults.retry`, mapping files `methods.<m>.retry`). */
export const retryPolicySchema: JsonSchema = object(
  "How the method's calls are retried (only when repeating them cannot duplicate a side effect).",
  {
    attempts: {
      description: `Attempts in all, the first included (1: no retry). At most ${MAX_ATTEMPTS}.`,
      type: "integer",
      minimum: 1,
      maximum: MAX_ATTEMPTS,
      default: DEFAULT_RETRY.attempts,
    },
    codes: { ...codeNamesSchema, description: "gRPC codes that are retried.", default: ["UNAVAILABLE"] },
    backoff: object("Full-jitter exponential backoff between attempts.", {
      initial: duration("Cap of the first backoff.", { default: "25ms" }),
      max: duration("Largest backoff cap.", { default: "1s" }),
      multiplier: { description: "Growth of the cap per attempt.", type: "number", minimum: 1, default: 2 },
    }),
    perTryTimeout: duration("Deadline of each attempt (0: only the call's own deadline).", { default: "0" }),
  },
);

/** `backends.retryBudget:`. */
export const retryBudgetSchema: JsonSchema = object(
  "Retries in flight per backend stay under this share of requests in flight, or under minRetries.",
  {
    percent: {
      description: "Share of requests in flight, %.",
      type: "number",
      minimum: 0,
      maximum: 100,
      default: 20,
    },
    minRetries: { description: "Retries always allowed in flight.", type: "integer", minimum: 0, default: 3 },
  },
);

/** Reads a `retry:` entry; throws LoadError (CONFIG_INVALID) naming `where`. */
export function readRetryPolicy(v: unknown, where: string): Partial<RetryPolicy> {
  const o = checkShape<{
    attempts?: number;
    codes?: string | string[];
    backoff?: { initial?: string | number; max?: string | number; multiplier?: number };
    perTryTimeout?: string | number;
  }>(retryPolicySchema, v, where);
  const out: { -readonly [K in keyof RetryPolicy]?: RetryPolicy[K] } = {};
  if (o.attempts !== undefined) out.attempts = o.attempts;
  if (o.codes !== undefined) out.codes = codesOf(o.codes);
  if (o.backoff?.initial !== undefined) out.initialBackoffMs = parseDurationMs(o.backoff.initial)!;
  if (o.backoff?.max !== undefined) out.maxBackoffMs = parseDurationMs(o.backoff.max)!;
  if (o.backoff?.multiplier !== undefined) out.backoffMultiplier = o.backoff.multiplier;
  if (o.perTryTimeout !== undefined) out.perTryTimeoutMs = parseDurationMs(o.perTryTimeout)!;
  return out;
}

/** Reads `backends.retryBudget:`. */
export function readRetryBudget(v: unknown, where: string): RetryBudget {
  const o = checkShape<Partial<RetryBudget>>(retryBudgetSchema, v, where);
  return { ...DEFAULT_RETRY_BUDGET, ...o };
}

/** Code names (checked by codeNamesSchema) to their numbers. */
export function codesOf(names: string | readonly string[]): number[] {
  return ([] as string[]).concat(names).map((n) => CODE_BY_NAME.get(n)!);
}

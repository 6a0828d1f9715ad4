import { parseDurationMs } from "../../config/duration.js";
import { checkShape } from "../../config/schema-check.js";
import type { Limit } from "./gcra.js";
import { type KEY_PARTS, limitsSchema, rateLimitSchema } from "./schema.js";

export type KeyPart = (typeof KEY_PARTS)[number];

export interface RouteLimit extends Limit {
  /** What one bucket counts: the client IP, the token's subject, the API key, the route; combined. */
  readonly key: readonly KeyPart[];
}

/** Config file `rateLimit:`. */
export interface RateLimitConfig {
  readonly store: "memory" | "redis";
  readonly redis: { readonly url: string; readonly keyPrefix: string; readonly timeoutMs: number };
  /** When Redis cannot be reached: let requests through (open) or refuse them with 503 (closed). */
  readonly onStoreFailure: "open" | "closed";
  readonly apiKeyHeader: string;
  /** Limits of routes whose method sets none. */
  readonly default: readonly RouteLimit[];
}

interface LimitEntry {
  name?: string;
  key?: KeyPart | KeyPart[];
  rate: number;
  per?: string | number;
  burst?: number;
}

/** Reads the config file's `rateLimit:` (shape: rateLimitSchema); throws LoadError CONFIG_INVALID. */
export function readRateLimitConfig(v: unknown, where: string): RateLimitConfig {
  const o = checkShape<{
    store?: RateLimitConfig["store"];
    redis?: { url?: string; keyPrefix?: string; timeout?: string | number };
    onStoreFailure?: RateLimitConfig["onStoreFailure"];
    apiKeyHeader?: string;
    default?: unknown;
  }>(rateLimitSchema, v, where);
  const redis = o.redis ?? {};
  return {
    store: o.store ?? "memory",
    redis: {
      url: redis.url ?? "redis://127.0.0.1:6379",
      keyPrefix: redis.keyPrefix ?? "protogate:rl:",
      timeoutMs: redis.timeout === undefined ? 100 : parseDurationMs(redis.timeout)!,
    },
    onStoreFailure: o.onStoreFailure ?? "open",
    apiKeyHeader: (o.apiKeyHeader ?? "x-api-key").toLowerCase(),
    default: o.default === undefined ? [] : readLimits(o.default, `${where}.default`),
  };
}

/** A list of limits, or "none" (shape: limitsSchema). */
export function readLimits(v: unknown, where: string): RouteLimit[] {
  const limits = checkShape<LimitEntry[] | "none">(limitsSchema, v, where);
  if (limits === "none") return [];
  return limits.map((o) => ({
    name: o.name ?? `${o.rate}-per-${o.per ?? "1s"}`,
    key: ([] as KeyPart[]).concat(o.key ?? ["ip"]),
    rate: o.rate,
    periodMs: parseDurationMs(o.per ?? "1s")!,
    burst: o.burst ?? o.rate,
  }));
}

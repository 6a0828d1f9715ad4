import { parseDurationMs } from "../../config/duration.js";
import { LoadError } from "../../config/load-error.js";
import { asObject, onlyKeys, optString } from "../../config/validate.js";
import type { Limit } from "./gcra.js";

export type KeyPart = "ip" | "subject" | "apiKey" | "route";

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

const PARTS: readonly KeyPart[] = ["ip", "subject", "apiKey", "route"];

export function readRateLimitConfig(v: unknown, where: string): RateLimitConfig {
  const o = asObject(v, where);
  onlyKeys(o, ["store", "redis", "onStoreFailure", "apiKeyHeader", "default"], where);
  const store = o.store ?? "memory";
  if (store !== "memory" && store !== "redis")
    throw new LoadError("CONFIG_INVALID", `${where}.store`, 'expected "memory" or "redis"');
  const redis = asObject(o.redis ?? {}, `${where}.redis`);
  onlyKeys(redis, ["url", "keyPrefix", "timeout"], `${where}.redis`);
  const onStoreFailure = o.onStoreFailure ?? "open";
  if (onStoreFailure !== "open" && onStoreFailure !== "closed") {
    throw new LoadError("CONFIG_INVALID", `${where}.onStoreFailure`, 'expected "open" or "closed"');
  }
  const timeout = redis.timeout === undefined ? 100 : parseDurationMs(redis.timeout);
  if (timeout === undefined)
    throw new LoadError("CONFIG_INVALID", `${where}.redis.timeout`, 'expected a duration such as "100ms"');
  return {
    store,
    redis: {
      url: optString(redis, "url", `${where}.redis`) ?? "redis://127.0.0.1:6379",
      keyPrefix: optString(redis, "keyPrefix", `${where}.redis`) ?? "protogate:rl:",
      timeoutMs: timeout,
    },
    onStoreFailure,
    apiKeyHeader: (optString(o, "apiKeyHeader", where) ?? "x-api-key").toLowerCase(),
    default: o.default === undefined ? [] : readLimits(o.default, `${where}.default`),
  };
}

/** A list of limits, or "none". */
export function readLimits(v: unknown, where: string): RouteLimit[] {
  if (v === "none") return [];
  if (!Array.isArray(v)) throw new LoadError("CONFIG_INVALID", where, 'expected a list of limits or "none"');
  return v.map((l, i) => {
    const at = `${where}[${i}]`;
    const o = asObject(l, at);
    onlyKeys(o, ["name", "key", "rate", "per", "burst"], at);
    const key = ([] as unknown[]).concat(o.key ?? ["ip"]);
    for (const k of key) {
      if (!PARTS.includes(k as KeyPart))
        throw new LoadError("CONFIG_INVALID", `${at}.key`, `expected parts of ${PARTS.join(", ")}`);
    }
    const rate = o.rate;
    if (typeof rate !== "number" || !Number.isInteger(rate) || rate < 1)
      throw new LoadError("CONFIG_INVALID", `${at}.rate`, "expected a whole number of requests, 1 or more");
    const periodMs = parseDurationMs(o.per ?? "1s");
    if (!periodMs)
      throw new LoadError("CONFIG_INVALID", `${at}.per`, 'expected a duration such as "1s" or "1m"');
    const burst = o.burst ?? rate;
    if (typeof burst !== "number" || !Number.isInteger(burst) || burst < 1)
      throw new LoadError("CONFIG_INVALID", `${at}.burst`, "expected a whole number, 1 or more");
    return {
      name: optString(o, "name", at) ?? `${rate}-per-${o.per ?? "1s"}`,
      key: key as KeyPart[],
      rate,
      periodMs,
      burst,
    };
  });
}

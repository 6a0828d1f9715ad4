import { parseDurationMs, parseSizeBytes } from "../../config/duration.js";
import { LoadError } from "../../config/load-error.js";
import { checkShape } from "../../config/schema-check.js";
import {
  bool,
  duration,
  ifThenElse,
  type JsonSchema,
  object,
  oneOf,
  size,
  text,
} from "../../config/schema-kit.js";

/**
 * How one method's answers are cached (per method `cache:`, default in `defaults.cache`). A route
 * without it is not cached and its chain has no cache frame.
 */
export interface CachePolicy {
  /** Freshness when the backend sends no `cache-control` max-age/s-maxage, ms. */
  readonly ttlMs: number;
  /**
   * `shared`: one entry for every caller; requests with credentials bypass it unless the answer is
   * `public` (RFC 9111 section 3.5). `principal`: one entry per caller (issuer and subject in the key).
   */
  readonly scope: "shared" | "principal";
  /** Request headers (lower case) whose values are part of the key, like a declared `Vary`. */
  readonly vary: readonly string[];
  /** RFC 5861 windows after freshness, ms; the backend's own directives win when present. */
  readonly staleWhileRevalidateMs: number;
  readonly staleIfErrorMs: number;
  /** Error answers (404...) are stored for this long; 0 (default): errors are never stored. */
  readonly errorTtlMs: number;
  /** Purge tags of every entry of the route; the backend may add more with `cache-tag` metadata. */
  readonly tags: readonly string[];
  /** How long concurrent misses wait for the one call in flight before calling themselves, ms. */
  readonly lockTimeoutMs: number;
  /** Also cache non-GET bindings of methods whose proto says `idempotency_level = NO_SIDE_EFFECTS`. */
  readonly noSideEffects: boolean;
}

/** Gateway-wide cache settings (`cache:` at the top of the config). */
export interface CacheConfig {
  /** `memory` (per instance) or `redis` (memory in front of a Redis shared by every instance). */
  readonly store: "memory" | "redis";
  readonly redis?: { readonly url: string; readonly keyPrefix: string };
  /** Bytes the in-memory tier may hold in all, and per entry (larger answers are not stored). */
  readonly maxBytes: number;
  readonly maxEntryBytes: number;
  /**
   * Whether an answer served from the cache counts against rate limits (default true: the rate limit
   * decides at the edge, before the body is read). false: on routes with cache settings the rate limit
   * defers its decision to the call (upstream/admission.ts); the cache runs it on a miss, before going
   * upstream or joining a fill, and waives it on a hit (fresh or stale-while-revalidate), so a hit is
   * never refused nor counted while a miss is limited as before.
   */
  readonly hitsCountForRateLimit: boolean;
}

export const DEFAULT_CACHE_POLICY: CachePolicy = {
  ttlMs: 60_000,
  scope: "shared",
  vary: [],
  staleWhileRevalidateMs: 0,
  staleIfErrorMs: 0,
  errorTtlMs: 0,
  tags: [],
  lockTimeoutMs: 5_000,
  noSideEffects: false,
};

export const DEFAULT_CACHE_CONFIG: CacheConfig = {
  store: "memory",
  maxBytes: 64 * 1024 * 1024,
  maxEntryBytes: 1024 * 1024,
  hitsCountForRateLimit: true,
};

/** A list of names (vary headers, tags). */
const names = (description: string): JsonSchema => ({
  description,
  type: "array",
  items: { type: "string", minLength: 1 },
  errorMessage: "expected a list of names",
});

/** Per-method `cache:` (config `defaults.cache`, mapping files `methods.<m>.cache`); `false` turns it off. */
export const cachePolicySchema: JsonSchema = ifThenElse(
  { type: "boolean" },
  { description: "false: this method is not cached.", const: false },
  object("How the method's answers are cached (README, Caching).", {
    ttl: duration("Freshness when the backend sends no cache-control max-age.", { default: "60s" }),
    scope: oneOf(
      "shared: one entry for all callers; principal: one per caller.",
      ["shared", "principal"],
      "shared",
    ),
    vary: names("Request headers whose values are part of the key."),
    staleWhileRevalidate: duration("RFC 5861: served stale at once and refreshed in the background.", {
      default: "0",
    }),
    staleIfError: duration("RFC 5861: served stale when the backend fails or times out.", { default: "0" }),
    errorTtl: duration("How long NOT_FOUND-like errors are stored (0: never).", { default: "0" }),
    tags: names("Purge tags of every entry of the method."),
    lockTimeout: duration("How long concurrent misses wait for the one backend call.", { default: "5s" }),
    noSideEffects: bool("Also cache non-GET bindings of NO_SIDE_EFFECTS methods.", false),
  }),
);

/** Gateway-wide `cache:`. */
export const cacheConfigSchema: JsonSchema = object("The response cache's store and bounds.", {
  store: oneOf(
    "memory: per instance; redis: memory in front of a Redis shared by all.",
    ["memory", "redis"],
    "memory",
  ),
  redis: object("The shared tier.", {
    url: text("Redis URL.", { default: "redis://127.0.0.1:6379" }),
    keyPrefix: text("Prefix of every key and of the purge channel.", { default: "protogate:cache:" }),
  }),
  maxBytes: size("Bytes the in-memory tier holds in all.", { default: "64mb" }),
  maxEntryBytes: size("Largest answer stored.", { default: "1mb" }),
  hitsCountForRateLimit: bool(
    "Answers served from the cache count against rate limits; false: only misses do (README, Caching).",
    true,
  ),
});

/**
 * Reads a `cache:` entry of a method (`cache: { ttl: 30s, scope: principal, vary: [accept-language],
 * staleWhileRevalidate: 10s, staleIfError: 5m, errorTtl: 5s, tags: [books], lockTimeout: 5s,
 * noSideEffects: true }`), undefined for `cache: false`. Throws LoadError (CONFIG_INVALID) naming `where`.
 */
export function readCachePolicy(v: unknown, where: string): Partial<CachePolicy> | undefined {
  const o = checkShape<
    | false
    | {
        ttl?: string | number;
        scope?: "shared" | "principal";
        vary?: string[];
        staleWhileRevalidate?: string | number;
        staleIfError?: string | number;
        errorTtl?: string | number;
        tags?: string[];
        lockTimeout?: string | number;
        noSideEffects?: boolean;
      }
  >(cachePolicySchema, v, where);
  if (o === false) return undefined;
  const out: { -readonly [K in keyof CachePolicy]?: CachePolicy[K] } = {};
  const ms = (x: string | number | undefined) => (x === undefined ? undefined : parseDurationMs(x)!);
  const set = <K extends keyof CachePolicy>(k: K, x: CachePolicy[K] | undefined) => {
    if (x !== undefined) out[k] = x;
  };
  set("ttlMs", ms(o.ttl));
  set("staleWhileRevalidateMs", ms(o.staleWhileRevalidate));
  set("staleIfErrorMs", ms(o.staleIfError));
  set("errorTtlMs", ms(o.errorTtl));
  set("lockTimeoutMs", ms(o.lockTimeout));
  set("scope", o.scope);
  set(
    "vary",
    o.vary?.map((h) => h.toLowerCase()),
  );
  set("tags", o.tags);
  set("noSideEffects", o.noSideEffects);
  return out;
}

/** Reads the gateway-wide `cache:`; throws LoadError (CONFIG_INVALID) naming `where`. */
export function readCacheConfig(v: unknown, where: string): CacheConfig {
  const o = checkShape<{
    store?: "memory" | "redis";
    redis?: { url?: string; keyPrefix?: string };
    maxBytes?: string | number;
    maxEntryBytes?: string | number;
    hitsCountForRateLimit?: boolean;
  }>(cacheConfigSchema, v, where);
  const store = o.store ?? DEFAULT_CACHE_CONFIG.store;
  if (store === "redis" && !o.redis)
    throw new LoadError("CONFIG_INVALID", `${where}.redis`, "store: redis needs redis: { url }");
  return {
    store,
    ...(o.redis
      ? {
          redis: {
            url: o.redis.url ?? "redis://127.0.0.1:6379",
            keyPrefix: o.redis.keyPrefix ?? "protogate:cache:",
          },
        }
      : {}),
    maxBytes: o.maxBytes === undefined ? DEFAULT_CACHE_CONFIG.maxBytes : parseSizeBytes(o.maxBytes)!,
    maxEntryBytes:
      o.maxEntryBytes === undefined ? DEFAULT_CACHE_CONFIG.maxEntryBytes : parseSizeBytes(o.maxEntryBytes)!,
    hitsCountForRateLimit: o.hitsCountForRateLimit ?? DEFAULT_CACHE_CONFIG.hitsCountForRateLimit,
  };
}

import { parseDurationMs, parseSizeBytes } from "../../config/duration.js";
import { LoadError } from "../../config/load-error.js";
import { asObject, type Obj, onlyKeys, optBool, optParsed, optString } from "../../config/validate.js";

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
   * Whether a cache hit counts against rate limits. Only `true` is supported: rate limits run as an
   * edge policy before the handler, before the cache knows whether the key is fresh.
   */
  readonly hitsCountForRateLimit: true;
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

const DURATION = 'a duration such as "30s"';

/**
 * `cache: { ttl: 30s, scope: shared|principal, vary: [accept-language], staleWhileRevalidate: 10s,
 * staleIfError: 5m, errorTtl: 5s, tags: [books], lockTimeout: 5s, noSideEffects: true }`, or
 * `cache: false` to turn a default off for one method (undefined). Throws LoadError (CONFIG_INVALID)
 * naming `where`.
 */
export function readCachePolicy(v: unknown, where: string): Partial<CachePolicy> | undefined {
  if (v === false) return undefined;
  const o = asObject(v, where);
  onlyKeys(
    o,
    [
      "ttl",
      "scope",
      "vary",
      "staleWhileRevalidate",
      "staleIfError",
      "errorTtl",
      "tags",
      "lockTimeout",
      "noSideEffects",
    ],
    where,
  );
  const out: { -readonly [K in keyof CachePolicy]?: CachePolicy[K] } = {};
  const ms = (key: string) => optParsed(o, key, where, parseDurationMs, DURATION);
  const set = <K extends keyof CachePolicy>(k: K, x: CachePolicy[K] | undefined) => {
    if (x !== undefined) out[k] = x;
  };
  set("ttlMs", ms("ttl"));
  set("staleWhileRevalidateMs", ms("staleWhileRevalidate"));
  set("staleIfErrorMs", ms("staleIfError"));
  set("errorTtlMs", ms("errorTtl"));
  set("lockTimeoutMs", ms("lockTimeout"));
  set(
    "scope",
    optParsed(
      o,
      "scope",
      where,
      (x) => (x === "shared" || x === "principal" ? x : undefined),
      '"shared" or "principal"',
    ),
  );
  if (o.vary !== undefined) out.vary = names(o.vary, `${where}.vary`).map((h) => h.toLowerCase());
  if (o.tags !== undefined) out.tags = names(o.tags, `${where}.tags`);
  set("noSideEffects", optBool(o, "noSideEffects", where));
  return out;
}

/** `cache: { store: redis, redis: { url, keyPrefix }, maxBytes: 64mb, maxEntryBytes: 1mb }` at the top. */
export function readCacheConfig(v: unknown, where: string): CacheConfig {
  const o = asObject(v, where);
  onlyKeys(o, ["store", "redis", "maxBytes", "maxEntryBytes", "hitsCountForRateLimit"], where);
  const store =
    optParsed(
      o,
      "store",
      where,
      (x) => (x === "memory" || x === "redis" ? x : undefined),
      '"memory" or "redis"',
    ) ?? DEFAULT_CACHE_CONFIG.store;
  let redis: CacheConfig["redis"];
  if (o.redis !== undefined) {
    const r: Obj = asObject(o.redis, `${where}.redis`);
    onlyKeys(r, ["url", "keyPrefix"], `${where}.redis`);
    redis = {
      url: optString(r, "url", `${where}.redis`) ?? "redis://127.0.0.1:6379",
      keyPrefix: optString(r, "keyPrefix", `${where}.redis`) ?? "protogate:cache:",
    };
  }
  if (store === "redis" && !redis)
    throw new LoadError("CONFIG_INVALID", `${where}.redis`, "store: redis needs redis: { url }");
  if (o.hitsCountForRateLimit !== undefined && o.hitsCountForRateLimit !== true)
    throw new LoadError(
      "CONFIG_INVALID",
      `${where}.hitsCountForRateLimit`,
      "only true is supported: rate limits run before the cache (see README, Caching)",
    );
  const size = (k: string) => optParsed(o, k, where, parseSizeBytes, 'a size such as "64mb"');
  return {
    store,
    ...(redis ? { redis } : {}),
    maxBytes: size("maxBytes") ?? DEFAULT_CACHE_CONFIG.maxBytes,
    maxEntryBytes: size("maxEntryBytes") ?? DEFAULT_CACHE_CONFIG.maxEntryBytes,
    hitsCountForRateLimit: true,
  };
}

function names(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string" || x === ""))
    throw new LoadError("CONFIG_INVALID", where, "expected a list of names");
  return v as string[];
}

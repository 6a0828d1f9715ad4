import { describe, expect, it } from "vitest";
import { lifetimeOf, parseCacheControl } from "../../src/interceptors/cache/freshness.js";
import {
  DEFAULT_CACHE_POLICY,
  readCacheConfig,
  readCachePolicy,
} from "../../src/interceptors/cache/policy.js";

describe("readCachePolicy()", () => {
  it.each([
    [{ ttl: "30s" }, { ttlMs: 30_000 }],
    [
      { ttl: 500, scope: "principal", vary: ["Accept-Language"], tags: ["books"] },
      { ttlMs: 500, scope: "principal", vary: ["accept-language"], tags: ["books"] },
    ],
    [
      {
        staleWhileRevalidate: "10s",
        staleIfError: "5m",
        errorTtl: "1s",
        lockTimeout: "2s",
        noSideEffects: true,
      },
      {
        staleWhileRevalidateMs: 10_000,
        staleIfErrorMs: 300_000,
        errorTtlMs: 1000,
        lockTimeoutMs: 2000,
        noSideEffects: true,
      },
    ],
  ])("reads %j", (input, expected) => {
    expect(readCachePolicy(input, "defaults.cache")).toEqual(expected);
  });

  it("turns a default off with false", () => {
    expect(readCachePolicy(false, "m.cache")).toBeUndefined();
  });

  it.each([
    [{ ttl: "soon" }, "m.cache.ttl"],
    [{ scope: "everyone" }, "m.cache.scope"],
    [{ vary: "accept" }, "m.cache.vary"],
    [{ tags: [""] }, "m.cache.tags"],
    [{ ttl: "1s", maxAge: 3 }, "m.cache.maxAge"],
    ["1s", "m.cache"],
  ])("refuses %j naming %s", (input, where) => {
    expect(() => readCachePolicy(input, "m.cache")).toThrow(where);
  });
});

describe("readCacheConfig()", () => {
  it("fills defaults", () => {
    expect(readCacheConfig({}, "cache")).toEqual({
      store: "memory",
      maxBytes: 64 * 1024 * 1024,
      maxEntryBytes: 1024 * 1024,
      hitsCountForRateLimit: true,
    });
  });

  it("reads a Redis store", () => {
    expect(
      readCacheConfig({ store: "redis", redis: { url: "redis://r:6379" }, maxBytes: "8mb" }, "cache"),
    ).toMatchObject({
      store: "redis",
      redis: { url: "redis://r:6379", keyPrefix: "protogate:cache:" },
      maxBytes: 8 * 1024 * 1024,
    });
  });

  it("reads hitsCountForRateLimit: false (hits free of rate limits)", () => {
    expect(readCacheConfig({ hitsCountForRateLimit: false }, "cache").hitsCountForRateLimit).toBe(false);
  });

  it.each([
    [{ store: "redis" }, "cache.redis"],
    [{ store: "disk" }, "cache.store"],
    [{ hitsCountForRateLimit: "no" }, "cache.hitsCountForRateLimit"],
    [{ maxBytes: "lots" }, "cache.maxBytes"],
  ])("refuses %j naming %s", (input, where) => {
    expect(() => readCacheConfig(input, "cache")).toThrow(where);
  });
});

describe("lifetimeOf()", () => {
  const cc = (v: string) => ({ "grpc-metadata-cache-control": v });
  const policy = { ...DEFAULT_CACHE_POLICY, ttlMs: 7000, staleWhileRevalidateMs: 1000, staleIfErrorMs: 2000 };
  it.each([
    [
      "no cache-control: the configured TTL",
      {},
      false,
      { freshMs: 7000, staleWhileRevalidateMs: 1000, staleIfErrorMs: 2000 },
    ],
    ["max-age", cc("max-age=5"), false, { freshMs: 5000 }],
    ["s-maxage wins in a shared cache", cc("max-age=5, s-maxage=9"), false, { freshMs: 9000 }],
    [
      "RFC 5861 windows from the backend",
      cc("max-age=1, stale-while-revalidate=3, stale-if-error=4"),
      false,
      { staleWhileRevalidateMs: 3000, staleIfErrorMs: 4000 },
    ],
    ["public with credentials", cc("public, max-age=5"), true, { freshMs: 5000, public: true }],
    ["cache tags", { "grpc-metadata-cache-tag": "a, b" }, false, { tags: ["a", "b"] }],
  ])("%s", (_name, headers, credentialed, expected) => {
    expect(lifetimeOf(headers, policy, credentialed)).toMatchObject(expected);
  });

  it.each([
    ["no-store", cc("no-store"), false],
    ["private", cc("private, max-age=60"), false],
    ["set-cookie metadata", { "grpc-metadata-set-cookie": "a=b" }, false],
    ["credentials without public", cc("max-age=60"), true],
    ["credentials without cache-control", {}, true],
  ])("refuses %s", (_name, headers, credentialed) => {
    expect(lifetimeOf(headers, policy, credentialed)).toBeUndefined();
  });

  it("parses Cache-Control directives case-insensitively, with quoted values", () => {
    expect([...parseCacheControl('Max-Age=5, no-cache="set-cookie", public')]).toEqual([
      ["max-age", "5"],
      ["no-cache", "set-cookie"],
      ["public", ""],
    ]);
  });
});

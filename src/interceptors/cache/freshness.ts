import CachePolicyRules from "http-cache-semantics";
import type { CachePolicy } from "./policy.js";

/** Backend metadata as the gRPC target exposes it in `UpstreamResult.headers`. */
const CACHE_CONTROL = "grpc-metadata-cache-control";
const CACHE_TAG = "grpc-metadata-cache-tag";

/** How long an answer may be served: fresh, then stale while revalidating, then stale on errors (ms). */
export interface Lifetime {
  readonly freshMs: number;
  readonly staleWhileRevalidateMs: number;
  readonly staleIfErrorMs: number;
  /** Marked `public` by the backend: may be served to requests with credentials (RFC 9111 3.5). */
  readonly public: boolean;
  /** Purge tags the backend added (`cache-tag: a, b` metadata). */
  readonly tags: readonly string[];
}

/**
 * The lifetime of a success answer in a shared cache, or undefined when it must not be stored:
 * `no-store`, `private`, set-cookie-like metadata, or credentials without `public`/`s-maxage`.
 * Storability and max-age/s-maxage come from http-cache-semantics (RFC 9111, shared cache); without
 * a max-age the configured TTL applies. RFC 5861 windows: the backend's directives, else the policy's.
 * `credentialed`: the request carried credentials and the entry is shared (not per principal).
 */
export function lifetimeOf(
  headers: Readonly<Record<string, string | string[]>>,
  policy: CachePolicy,
  credentialed: boolean,
): Lifetime | undefined {
  for (const name in headers) if (name.includes("set-cookie")) return undefined;
  const cc = one(headers[CACHE_CONTROL]);
  const directives = parseCacheControl(cc);
  const rules = new CachePolicyRules(
    { method: "GET", url: "/", headers: credentialed ? { authorization: "x" } : {} },
    { status: 200, headers: cc ? { "cache-control": cc } : {} },
    { shared: true, cacheHeuristic: 0, immutableMinTimeToLive: 0 },
  );
  // RFC 9111 3 and 3.5 for a shared cache: no-store and private answers are not stored.
  if (cc && !rules.storable()) return undefined;
  if (credentialed && !directives.has("public") && !directives.has("s-maxage")) return undefined;
  const explicit = directives.has("s-maxage") || directives.has("max-age") || directives.has("no-cache");
  return {
    freshMs: explicit ? rules.maxAge() * 1000 : policy.ttlMs,
    staleWhileRevalidateMs:
      seconds(directives.get("stale-while-revalidate")) ?? policy.staleWhileRevalidateMs,
    staleIfErrorMs: seconds(directives.get("stale-if-error")) ?? policy.staleIfErrorMs,
    public: directives.has("public"),
    tags: (one(headers[CACHE_TAG]) ?? "")
      .split(",")
      .map((t) => t.trim())
      .filter((t) => t !== ""),
  };
}

/** Cache-Control directives by lower-case name ("" for a directive without a value). */
export function parseCacheControl(v: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!v) return out;
  for (const part of v.split(",")) {
    const eq = part.indexOf("=");
    const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name)
      out.set(
        name,
        eq === -1
          ? ""
          : part
              .slice(eq + 1)
              .trim()
              .replace(/^"|"$/g, ""),
      );
  }
  return out;
}

function seconds(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v) * 1000;
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(", ") : v;
}

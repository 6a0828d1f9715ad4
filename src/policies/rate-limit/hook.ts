import type { FastifyReply, FastifyRequest } from "fastify";
import { Code } from "../../errors/code.js";
import { GatewayError } from "../../errors/gateway-error.js";
import { rateLimitDecisions } from "../../observability/metrics.js";
import type { Route } from "../../routing/route.js";
import { Admission } from "../../upstream/admission.js";
import type { KeyPart, RateLimitConfig, RouteLimit } from "./config.js";
import type { Decision } from "./gcra.js";
import type { RateLimitStore } from "./stores.js";

/**
 * onRequest, after auth (so `subject` is known): every limit of the route takes one from its bucket.
 * On a route whose cache hits are free (`deferred`: `cache.hitsCountForRateLimit: false`), the hook only
 * leaves the same decision as `req.gateway.admission`, run when the request goes upstream (the cache's
 * miss path) and never for an answer served from the cache.
 * Over a limit: 429 with Retry-After. Headers per the IETF draft (draft-ietf-httpapi-ratelimit-headers):
 * `RateLimit-Policy: "name";q=100;w=60` and `RateLimit: "name";r=42;t=10`.
 * If the store fails, `onStoreFailure` decides; failures are counted.
 */
export class RateLimiter {
  storeFailures = 0;
  private lastLogged = 0;

  constructor(
    private readonly config: RateLimitConfig,
    private readonly store: RateLimitStore,
    private readonly log: (message: string) => void,
    private readonly deferred: (route: Route) => boolean = () => false,
  ) {}

  readonly hook = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const state = req.gateway!;
    const route = state.match.route;
    const limits = route.settings.rateLimit ?? this.config.default;
    if (limits.length === 0) return;
    // Cache hits are free here: decide when the request goes upstream (a miss), never for a hit.
    if (this.deferred(route)) {
      state.admission = new Admission(() => this.decide(limits, req, reply));
      return;
    }
    await this.decide(limits, req, reply);
  };

  /**
   * Every limit takes one from its bucket; resolves when all allow (and sets the RateLimit headers of the
   * tightest), rejects with 429 (or 503 when the store fails and `onStoreFailure` is closed).
   */
  private async decide(
    limits: readonly RouteLimit[],
    req: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    let tightest: { limit: RouteLimit; decision: Decision } | undefined;
    for (const limit of limits) {
      let decision: Decision;
      try {
        decision = await this.store.take(this.key(limit, req), limit);
      } catch (err) {
        this.failed(err);
        rateLimitDecisions.inc({ decision: "store_failure" });
        if (this.config.onStoreFailure === "closed") {
          throw new GatewayError(Code.UNAVAILABLE, "rate limit store unavailable", {
            headers: { "retry-after": "1" },
          });
        }
        return;
      }
      if (!decision.allowed) {
        rateLimitDecisions.inc({ decision: "limited" });
        throw new GatewayError(Code.RESOURCE_EXHAUSTED, `rate limit "${limit.name}" exceeded`, {
          headers: {
            "retry-after": String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))),
            ...headers(limit, decision),
          },
        });
      }
      if (!tightest || decision.remaining < tightest.decision.remaining) tightest = { limit, decision };
    }
    rateLimitDecisions.inc({ decision: "allowed" });
    if (tightest) reply.headers(headers(tightest.limit, tightest.decision));
  }

  private key(limit: RouteLimit, req: FastifyRequest): string {
    return `${limit.name}|${limit.key.map((part) => KEY_PARTS[part](req, this.config.apiKeyHeader)).join("|")}`;
  }

  private failed(err: unknown): void {
    this.storeFailures++;
    const now = Date.now();
    if (now - this.lastLogged > 1000) {
      this.lastLogged = now;
      this.log(
        `rate limit store failed (${this.storeFailures} so far), failing ${this.config.onStoreFailure}: ${(err as Error).message}`,
      );
    }
  }
}

/** What each part of a bucket's key is made of. */
const KEY_PARTS: Record<KeyPart, (req: FastifyRequest, apiKeyHeader: string) => string> = {
  ip: (req) => `ip=${req.ip}`,
  subject: (req) => `sub=${req.gateway!.identity?.claims.sub ?? "-"}`,
  apiKey: (req, header) => {
    const v = req.headers[header];
    return `key=${(Array.isArray(v) ? v[0] : v) ?? "-"}`;
  },
  route: (req) => `route=${req.gateway!.match.route.httpMethod} ${req.gateway!.match.route.template.source}`,
};

function headers(limit: RouteLimit, d: Decision): Record<string, string> {
  const name = JSON.stringify(limit.name);
  return {
    "ratelimit-policy": `${name};q=${limit.burst};w=${Math.ceil(limit.periodMs / 1000)}`,
    ratelimit: `${name};r=${d.remaining};t=${Math.ceil(d.resetMs / 1000)}`,
  };
}

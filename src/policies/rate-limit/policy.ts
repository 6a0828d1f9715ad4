import type { PolicyModule } from "../policy.js";
import type { RateLimitConfig, RouteLimit } from "./config.js";
import { RateLimiter } from "./hook.js";
import { MemoryStore, RedisStore } from "./stores.js";

declare module "../../routing/route.js" {
  interface RouteSettings {
    /** This route's rate limits; undefined: the gateway's default (rateLimit.default). */
    readonly rateLimit?: readonly RouteLimit[] | undefined;
  }
}

/**
 * Rate limits (config `rateLimit:`, per method `rateLimit`), GCRA buckets in memory or Redis, after auth
 * so that a limit can count per subject. On routes the cache answers with `hitsCountForRateLimit: false`
 * the decision waits for a cache miss (hook.ts). Its status shows how often the store failed.
 */
export const rateLimitPolicy: PolicyModule<RateLimitConfig> = {
  name: "rateLimit",
  configKey: "rateLimit",
  create(config, ctx) {
    if (!config) return undefined;
    const store =
      config.store === "redis"
        ? new RedisStore(config.redis.url, config.redis.keyPrefix, config.redis.timeoutMs)
        : new MemoryStore();
    const limiter = new RateLimiter(
      config,
      store,
      (m) => ctx.log.warn(m),
      (route) => ctx.cacheHitsAreFree(route),
    );
    return {
      afterMatch: limiter.hook,
      status: () => ({
        store: config.store,
        shared: config.store === "redis",
        storeFailures: limiter.storeFailures,
      }),
      close: () => store.close(),
    };
  },
};

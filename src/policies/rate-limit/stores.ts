import { Redis } from "ioredis";
import { type Decision, type Limit, params, step } from "./gcra.js";

/** Where buckets live: this process, or Redis (shared by every gateway instance). */
export interface RateLimitStore {
  take(key: string, limit: Limit): Promise<Decision>;
  close(): Promise<void>;
}

/** Buckets in this process's memory; expired ones are swept so that memory stays bounded by active keys. */
export class MemoryStore implements RateLimitStore {
  private readonly tats = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(sweepMs = 10_000) {
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const [k, tat] of this.tats) if (tat < now) this.tats.delete(k);
    }, sweepMs);
    this.sweeper.unref();
  }

  async take(key: string, limit: Limit): Promise<Decision> {
    const { interval, tolerance } = params(limit);
    const { decision, tat } = step(this.tats.get(key), Date.now(), interval, tolerance);
    this.tats.set(key, tat);
    return decision;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}

/**
 * GCRA in one Lua call: atomic across gateway instances, one round trip per request, and on Redis's
 * clock (TIME), so instances with skewed clocks still share one limit.
 */
const GCRA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local nxt = tat + interval
local ahead = nxt - now
if ahead > tolerance then
  return {0, 0, tostring(ahead - tolerance), tostring(tat - now)}
end
redis.call('SET', KEYS[1], tostring(nxt), 'PX', math.ceil(ahead))
return {1, math.floor((tolerance - ahead) / interval), '0', tostring(ahead)}
`;

type GcraRedis = Redis & {
  gcra(key: string, interval: number, tolerance: number): Promise<[number, number, string, string]>;
};

export class RedisStore implements RateLimitStore {
  private readonly redis: GcraRedis;

  constructor(
    url: string,
    private readonly prefix: string,
    timeoutMs: number,
  ) {
    // No offline queue and a short command timeout: when Redis is away, fail fast so that the
    // configured failure mode applies, instead of requests piling up behind a reconnect.
    this.redis = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: timeoutMs,
      connectTimeout: Math.max(timeoutMs, 1000),
      retryStrategy: (times) => Math.min(times * 100, 2000),
      lazyConnect: false,
    }) as GcraRedis;
    this.redis.on("error", () => undefined); // reported per request through the failure mode
    this.redis.defineCommand("gcra", { numberOfKeys: 1, lua: GCRA });
  }

  async take(key: string, limit: Limit): Promise<Decision> {
    const { interval, tolerance } = params(limit);
    const [allowed, remaining, retry, reset] = await this.redis.gcra(this.prefix + key, interval, tolerance);
    return { allowed: allowed === 1, remaining, retryAfterMs: Number(retry), resetMs: Number(reset) };
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

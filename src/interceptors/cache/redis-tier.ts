import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { deserialize, type Entry, keepUntil, serialize } from "./entry.js";
import type { PurgeSelector } from "./memory.js";

type Log = { warn(m: string): void; info(m: string): void };

/**
 * The shared tier: entries under `<prefix>e:<route>:<hash>` with a TTL of their last window, tag sets
 * under `<prefix>t:<tag>`, fill locks under `<prefix>l:<key>`, and purges broadcast on `<prefix>purge`
 * so that every instance drops its memory copies. Every command fails fast (no offline queue, short
 * timeout): a Redis that is away makes the cache a pass-through, counted in `failures` and logged once
 * per outage, never a failed request.
 */
export class RedisTier {
  private readonly redis: Redis;
  private readonly sub: Redis;
  private readonly id = randomUUID();
  private down = false;
  failures = 0;

  constructor(
    url: string,
    private readonly prefix: string,
    private readonly log: Log,
    onPurge: (sel: PurgeSelector) => void,
  ) {
    const opts = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 500,
      connectTimeout: 1000,
      retryStrategy: (times: number) => Math.min(times * 100, 1000),
    };
    this.redis = new Redis(url, opts);
    this.redis.on("error", () => undefined); // counted per command below
    this.redis.on("ready", () => {
      if (this.down) this.log.info("cache: Redis is back, the shared tier is in use again");
      this.down = false;
    });
    // Subscriptions are replayed by ioredis after a reconnect; the offline queue keeps the first one.
    this.sub = new Redis(url, { ...opts, enableOfflineQueue: true, commandTimeout: undefined });
    this.sub.on("error", () => undefined);
    this.sub.subscribe(this.channel).catch(() => undefined);
    this.sub.on("message", (_ch: string, text: string) => {
      try {
        const m = JSON.parse(text) as { from: string; sel: PurgeSelector };
        if (m.from !== this.id) onPurge(m.sel);
      } catch {
        // not ours
      }
    });
  }

  private get channel(): string {
    return `${this.prefix}purge`;
  }

  /** The entry, undefined when absent or when Redis fails (counted). */
  async get(key: string): Promise<Entry | undefined> {
    try {
      const s = await this.redis.get(`${this.prefix}e:${key}`);
      return s === null ? undefined : deserialize(s);
    } catch (err) {
      this.failed(err);
      return undefined;
    }
  }

  async set(e: Entry, now = Date.now()): Promise<void> {
    const ttl = Math.ceil(keepUntil(e) - now);
    if (ttl <= 0) return;
    try {
      const m = this.redis.multi().set(`${this.prefix}e:${e.key}`, serialize(e), "PX", ttl);
      for (const tag of e.tags)
        m.sadd(`${this.prefix}t:${tag}`, e.key).pexpire(`${this.prefix}t:${tag}`, ttl, "GT");
      await m.exec();
    } catch (err) {
      this.failed(err);
    }
  }

  /** Takes the fill lock of a key for `ms` (SET NX PX); true also when Redis fails (fill locally). */
  async lock(key: string, ms: number): Promise<boolean> {
    try {
      return (await this.redis.set(`${this.prefix}l:${key}`, this.id, "PX", Math.max(1, ms), "NX")) === "OK";
    } catch (err) {
      this.failed(err);
      return true;
    }
  }

  async unlock(key: string): Promise<void> {
    try {
      await this.redis.del(`${this.prefix}l:${key}`);
    } catch (err) {
      this.failed(err);
    }
  }

  /** Deletes what the selector names in Redis and tells the other instances; returns entries deleted. */
  async purge(sel: PurgeSelector): Promise<number> {
    const keys = new Set<string>();
    if (sel.key !== undefined) keys.add(sel.key);
    if (sel.tag !== undefined)
      for (const k of await this.redis.smembers(`${this.prefix}t:${sel.tag}`)) keys.add(k);
    if (sel.route !== undefined && sel.key === undefined && sel.tag === undefined) {
      let cursor = "0";
      const match = `${this.prefix}e:${sel.route.replace(/[*?[\]\\]/g, "\\$&")}:*`;
      do {
        const [next, found] = await this.redis.scan(cursor, "MATCH", match, "COUNT", 500);
        cursor = next;
        for (const f of found) keys.add(f.slice(this.prefix.length + 2));
      } while (cursor !== "0");
    }
    const chosen = [...keys].filter((k) => sel.route === undefined || k.startsWith(`${sel.route}:`));
    let n = 0;
    if (chosen.length > 0) n = await this.redis.del(...chosen.map((k) => `${this.prefix}e:${k}`));
    if (sel.tag !== undefined) await this.redis.del(`${this.prefix}t:${sel.tag}`);
    await this.redis.publish(this.channel, JSON.stringify({ from: this.id, sel }));
    return n;
  }

  private failed(err: unknown): void {
    this.failures++;
    if (!this.down) {
      this.down = true;
      this.log.warn(`cache: Redis unreachable, bypassing the shared tier: ${(err as Error).message}`);
    }
  }

  close(): void {
    this.redis.disconnect();
    this.sub.disconnect();
  }
}

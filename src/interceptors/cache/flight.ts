import type { GatewayError } from "../../errors/gateway-error.js";
import type { Cancel, Invoke, UpstreamCall, UpstreamResult } from "../../upstream/call.js";
import { type Entry, errorOf } from "./entry.js";
import type { RedisTier } from "./redis-tier.js";

/** How a fill ended for one waiter: `first` is the waiter that started it; `entry` when it was stored or found. */
export type FillDone = (
  err: GatewayError | undefined,
  result: UpstreamResult | undefined,
  how: { readonly entry: Entry | undefined; readonly first: boolean; readonly collapsed: boolean },
) => void;

/** Turns a backend answer into a stored entry (or undefined when it may not be stored). */
export type Store = (err: GatewayError | undefined, result: UpstreamResult | undefined) => Entry | undefined;

const POLL_MS = 25;

/**
 * One fill of one key in flight: concurrent misses join it and share its one backend call. The
 * backend call belongs to the fill, not to the client that started it: a waiter that goes away only
 * leaves; the call is cancelled when nobody waits (and it is not a background refresh). With Redis,
 * the fill first takes the key's lock (SET NX PX): when another instance holds it, the fill polls for
 * the entry it will store, and calls the backend itself after `lockTimeoutMs`.
 */
export class Flight {
  private readonly waiters: Array<{ done: FillDone; first: boolean }> = [];
  private cancelBackend: Cancel | undefined;
  private finished = false;

  constructor(
    private readonly key: string,
    private readonly next: Invoke,
    private readonly call: UpstreamCall,
    private readonly store: Store,
    private readonly redis: RedisTier | undefined,
    private readonly lockTimeoutMs: number,
    private readonly background: boolean,
    private readonly onEnd: () => void,
  ) {}

  /** Adds a waiter; returns its cancel (leaves the fill). */
  join(done: FillDone): Cancel {
    const w = { done, first: this.waiters.length === 0 && !this.background };
    this.waiters.push(w);
    return () => {
      const i = this.waiters.indexOf(w);
      if (i >= 0) this.waiters.splice(i, 1);
      if (this.waiters.length === 0 && !this.background && !this.finished) {
        this.finish();
        this.cancelBackend?.();
      }
    };
  }

  get size(): number {
    return this.waiters.length;
  }

  start(): void {
    if (!this.redis) {
      this.callBackend(false);
      return;
    }
    const redis = this.redis;
    void redis.lock(this.key, this.lockTimeoutMs).then(async (mine) => {
      if (this.finished) return;
      if (!mine) {
        this.poll(redis, Date.now() + this.lockTimeoutMs);
        return;
      }
      // Double-checked: the holder before us may have stored the entry and let go of the lock since
      // this request missed.
      const e = this.background ? undefined : await redis.get(this.key);
      if (this.finished) return;
      if (e && e.freshUntil > Date.now()) {
        void redis.unlock(this.key);
        this.found(e);
      } else this.callBackend(true);
    });
  }

  /** Another instance fills the key: wait for its entry, bounded by the lock timeout. */
  private poll(redis: RedisTier, until: number): void {
    setTimeout(async () => {
      if (this.finished) return;
      const e = await redis.get(this.key);
      if (this.finished) return;
      if (e && e.freshUntil > Date.now()) this.found(e);
      else if (Date.now() >= until) this.callBackend(false);
      else this.poll(redis, until);
    }, POLL_MS).unref();
  }

  /** Another instance's entry answers every waiter. */
  private found(e: Entry): void {
    this.settle(e.error ? errorOf(e.error) : undefined, e.result, e, true);
  }

  private callBackend(locked: boolean): void {
    this.cancelBackend = this.next(this.call, (err, result) => {
      if (locked) void this.redis?.unlock(this.key);
      if (this.finished) return;
      const entry = this.store(err, result);
      this.settle(err, result, entry, false);
    });
  }

  private settle(
    err: GatewayError | undefined,
    result: UpstreamResult | undefined,
    entry: Entry | undefined,
    collapsed: boolean,
  ): void {
    this.finish();
    for (const w of this.waiters.splice(0))
      w.done(err, result, { entry, first: w.first, collapsed: collapsed || !w.first });
  }

  private finish(): void {
    this.finished = true;
    this.onEnd();
  }
}

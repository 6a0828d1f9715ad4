import { createHash } from "node:crypto";
import { Code } from "../../errors/code.js";
import type { GatewayError } from "../../errors/gateway-error.js";
import { httpStatusFromCode } from "../../errors/http-status.js";
import type { Route } from "../../routing/route.js";
import type { Cancel, Done, Invoke, UpstreamCall, UpstreamResult } from "../../upstream/call.js";
import { type Interceptor, transcodesOnDemand } from "../interceptor.js";
import { admitFirst } from "./admit-first.js";
import { type Entry, errorOf, sizeOf, storedError } from "./entry.js";
import { type FillDone, Flight } from "./flight.js";
import { lifetimeOf, parseCacheControl } from "./freshness.js";
import { CacheKeys, hasMapFields } from "./key.js";
import { MemoryTier, type PurgeSelector } from "./memory.js";
import { type CacheConfig, type CachePolicy, DEFAULT_CACHE_CONFIG, DEFAULT_CACHE_POLICY } from "./policy.js";
import { RawKeys } from "./raw-keys.js";
import { RedisTier } from "./redis-tier.js";
import { renderForStore } from "./representation.js";

declare module "../../routing/route.js" {
  interface RouteSettings {
    /** How this route's answers are cached (fields left out take DEFAULT_CACHE_POLICY's); none: not cached. */
    readonly cache?: Partial<CachePolicy> | undefined;
  }
}

/** Errors that say the same thing to every caller for a while, stored only with `errorTtl`. */
const STORABLE_ERRORS = new Set<number>([
  Code.NOT_FOUND,
  Code.INVALID_ARGUMENT,
  Code.FAILED_PRECONDITION,
  Code.OUT_OF_RANGE,
  Code.UNIMPLEMENTED,
]);

type Log = { info(m: string): void; warn(m: string): void; error(m: string): void };

/** A caching route's policy and what its keys need, fixed when the route is wrapped. */
interface KeyedRoute {
  readonly policy: CachePolicy;
  readonly hasMaps: boolean;
  /** The route's number in the key memo (CacheKeys). */
  readonly number: number;
}

/** What one request is allowed to do with the cache, from its headers and the route's policy. */
interface Ask {
  readonly key: string;
  /** Shared scope with credentials: only `public` entries may be read or written, and no coalescing. */
  readonly credentialed: boolean;
  /** Request `no-cache`/`max-age=0`: go to the backend (and store); `no-store`: do not store either. */
  readonly reload: boolean;
  readonly noStore: boolean;
}

/**
 * The response cache (issue #16), outermost of the interceptors: a hit calls nothing below it.
 * Per request: compute the key, look in memory then Redis, serve fresh entries (a hit), stale ones
 * within stale-while-revalidate (and refresh once in the background), and otherwise join the key's one
 * fill in flight (coalescing). Backend failures of 5xx kind are answered with a stale entry within
 * stale-if-error. The outcome is in `call.notes.cacheStatus` (RFC 9211) and `cacheAge` (seconds), which
 * the handler turns into headers; the cache itself never fails a request.
 */
export class ResponseCache implements Interceptor {
  readonly name = "cache";
  private readonly memory: MemoryTier;
  private readonly redis: RedisTier | undefined;
  private readonly flights = new Map<string, Flight>();
  private readonly keys = new CacheKeys();
  /** Entry keys by the request as sent, for hits without transcoding. */
  private readonly rawKeys = new RawKeys();
  /** Per entry, its last fresh-hit Cache-Status (hitStatus). Weak: it goes with the entry. */
  private readonly hitTexts = new WeakMap<Entry, { readonly ttl: number; readonly text: string }>();
  private readonly counts = {
    hits: 0,
    stale: 0,
    misses: 0,
    stored: 0,
    bypassed: 0,
    collapsed: 0,
    rateLimited: 0,
  };

  constructor(
    readonly config: CacheConfig,
    log: Log,
  ) {
    this.memory = new MemoryTier(config.maxBytes, config.maxEntryBytes);
    this.redis =
      config.store === "redis" && config.redis
        ? new RedisTier(config.redis.url, config.redis.keyPrefix, log, (sel) => this.memory.purge(sel))
        : undefined;
  }

  wrap(next: Invoke, route: Route, _target: unknown): Invoke {
    const settings = route.settings.cache;
    if (!settings) return next;
    const policy: CachePolicy = { ...DEFAULT_CACHE_POLICY, ...settings };
    const safe =
      route.httpMethod === "GET" ||
      route.httpMethod === "HEAD" ||
      (policy.noSideEffects && route.method.idempotencyLevel === "NO_SIDE_EFFECTS");
    // A caching route the cache does not serve (a POST without noSideEffects) still honours a
    // deferred rate limit: every one of its calls goes upstream.
    if (!safe) return this.config.hitsCountForRateLimit ? next : admitFirst(next);
    const hasMaps = hasMapFields(route.method.input);
    const keyed: KeyedRoute = { policy, hasMaps, number: this.keys.routeNumber() };
    // A fresh hit needs neither the message nor its encoding; serve transcodes (synchronously) otherwise.
    return transcodesOnDemand((call, done) => this.serve(next, keyed, call, done));
  }

  /** Drops entries from this instance's memory and from Redis, and tells the other instances. */
  async purge(sel: PurgeSelector): Promise<number> {
    const local = this.memory.purge(sel);
    if (!this.redis) return local;
    return Math.max(local, await this.redis.purge(sel));
  }

  status(): Record<string, unknown> {
    return {
      ...this.counts,
      entries: this.memory.size,
      bytes: this.memory.bytes,
      store: this.config.store,
      storeFailures: this.redis?.failures ?? 0,
    };
  }

  close(): void {
    this.redis?.close();
  }

  private serve(next: Invoke, keyed: KeyedRoute, call: UpstreamCall, done: Done): Cancel {
    const policy = keyed.policy;
    const ask = this.ask(keyed, call);
    let cancelled = false;
    let cancelInner: Cancel | undefined;
    const finish: Done = (err, result) => {
      if (!cancelled) done(err, result);
    };
    const found = ask.reload ? undefined : this.memory.get(ask.key);
    // Anything but a fresh hit uses the message: transcoded now, inside the handler's call to invoke,
    // so that a bad request is its 400 from there and never a throw from a later tick.
    if (!found || Date.now() >= found.freshUntil || (ask.credentialed && !found.public)) transcode(call);
    if (found || ask.reload || !this.redis) {
      // Answered on a later tick even for a memory hit: `done` is never called inside invoke.
      process.nextTick(() => {
        if (!cancelled) cancelInner = this.answer(next, policy, call, ask, found, finish);
      });
    } else {
      void this.redis.get(ask.key).then((e) => {
        if (e) this.memory.set(e);
        if (!cancelled) cancelInner = this.answer(next, policy, call, ask, e, finish);
      });
    }
    return () => {
      if (cancelled) return;
      cancelled = true;
      cancelInner?.();
      done(cancelledError(), undefined);
    };
  }

  private ask(keyed: KeyedRoute, call: UpstreamCall): Ask {
    const policy = keyed.policy;
    const h = call.headers;
    const hasCredentials =
      h.authorization !== undefined || h.cookie !== undefined || call.principal !== undefined;
    let caller = "-";
    if (policy.scope === "principal" && hasCredentials)
      caller =
        call.principal ??
        `c:${createHash("sha256")
          .update(`${h.authorization ?? ""}\0${h.cookie ?? ""}`)
          .digest("hex")}`;
    const raw = call.raw;
    let key = raw && this.rawKeys.get(keyed.number, raw, policy, h, caller);
    if (key === undefined) {
      key = this.keys.of(keyed.number, call, policy, keyed.hasMaps, caller); // transcodes: may throw the 400
      if (raw) this.rawKeys.set(keyed.number, raw, policy, h, caller, key);
    }
    const credentialed = hasCredentials && policy.scope === "shared";
    const given = h["cache-control"];
    // Most requests send no Cache-Control: nothing to parse (RFC 9111 5.4: Pragma counts only then).
    if (given === undefined) return { key, credentialed, reload: h.pragma === "no-cache", noStore: false };
    const cc = parseCacheControl(typeof given === "string" ? given : undefined);
    return {
      key,
      credentialed,
      reload: cc.has("no-cache") || cc.get("max-age") === "0",
      noStore: cc.has("no-store"),
    };
  }

  /** Serves `e` when it may, else goes to the backend; returns the cancel of what it started. */
  private answer(
    next: Invoke,
    policy: CachePolicy,
    call: UpstreamCall,
    ask: Ask,
    e: Entry | undefined,
    done: Done,
  ): Cancel | undefined {
    const now = Date.now();
    // Another request may have filled the key while this one read Redis.
    e ??= ask.reload ? undefined : this.memory.get(ask.key);
    const usable = e && (!ask.credentialed || e.public) ? e : undefined;
    if (usable && now < usable.freshUntil) {
      call.admission?.waive(); // a hit is free of a deferred rate limit
      this.counts.hits++;
      call.notes.cacheStatus = this.hitStatus(usable, Math.floor((usable.freshUntil - now) / 1000));
      this.serveEntry(call, usable, now, done);
      return undefined;
    }
    if (usable && now < usable.swrUntil && !ask.credentialed) {
      call.admission?.waive();
      this.counts.stale++;
      call.notes.cacheStatus = statusText(
        usable,
        `hit; ttl=${ttlOf(usable, now)}; detail=stale-while-revalidate`,
      );
      this.serveEntry(call, usable, now, done);
      if (!this.flights.has(ask.key)) this.flight(next, policy, call, ask, true).start();
      return undefined;
    }
    const stale = usable && now < usable.sieUntil ? usable : undefined;
    const admission = call.admission;
    if (!admission?.pending) return this.forward(next, policy, call, ask, stale, done);
    // Hits are free (hitsCountForRateLimit: false): this request goes upstream (or waits for a fill), so
    // its own rate limit decides first; a refused request never joins another's fill.
    let cancelled = false;
    let cancelForward: Cancel | undefined;
    admission.admit((refusal) => {
      if (cancelled) return;
      if (!refusal) {
        cancelForward = this.forward(next, policy, call, ask, stale, done);
        return;
      }
      this.counts.rateLimited++;
      call.notes.cacheStatus = `protogate; fwd=miss; detail=rate-limited; key="${ask.key}"`;
      done(refusal, undefined);
    });
    return () => {
      cancelled = true;
      cancelForward?.();
    };
  }

  /** A miss (or a request that may not use the entry): the backend, through the key's fill when it may share one. */
  private forward(
    next: Invoke,
    policy: CachePolicy,
    call: UpstreamCall,
    ask: Ask,
    stale: Entry | undefined,
    done: Done,
  ): Cancel {
    const onFill: FillDone = (err, result, how) => {
      if (how.collapsed && how.entry) this.memory.set(how.entry); // found in Redis, filled elsewhere
      if (err && stale && isServerError(err)) {
        this.counts.stale++;
        call.notes.cacheStatus = statusText(
          stale,
          `fwd=stale; fwd-status=${statusOf(err)}; detail=stale-if-error`,
        );
        this.serveEntry(call, stale, Date.now(), done);
        return;
      }
      call.notes.cacheStatus = status(
        ask.reload || ask.credentialed ? "fwd=request" : "fwd=miss",
        err ? statusOf(err) : result!.httpStatus,
        how.entry !== undefined,
        how.collapsed,
        ask.key,
      );
      // The stored entry's result carries the rendered answer: the handler writes it, no second render.
      done(err, err ? undefined : (how.entry?.result ?? result));
    };
    this.counts.misses++;
    // Callers that may not share an answer (credentials on a shared entry) or want a fresh one call alone.
    if (ask.credentialed || ask.reload || ask.noStore)
      return next(call, (err, result) => {
        const entry = ask.noStore ? undefined : this.store(call.route, policy, ask, err, result);
        onFill(err, result, { entry, first: true, collapsed: false });
      });
    return this.join(next, policy, call, ask, onFill, false);
  }

  /** Joins the key's fill in flight (or starts one); when it fails, a waiter that did not start it tries once more. */
  private join(
    next: Invoke,
    policy: CachePolicy,
    call: UpstreamCall,
    ask: Ask,
    onFill: FillDone,
    retried: boolean,
  ): Cancel {
    let flight = this.flights.get(ask.key);
    const starting = !flight;
    if (!flight) flight = this.flight(next, policy, call, ask, false);
    else this.counts.collapsed++;
    let cancel: Cancel = () => undefined;
    let timer: NodeJS.Timeout | undefined;
    const leave = flight.join((err, result, how) => {
      clearTimeout(timer);
      if (err && !how.entry && !how.first && !retried) {
        cancel = this.join(next, policy, call, ask, onFill, true);
        return;
      }
      onFill(err, result, how);
    });
    cancel = leave;
    if (starting) flight.start();
    else {
      // A waiter waits for the fill at most lockTimeout, then calls the backend on its own.
      timer = setTimeout(() => {
        leave();
        cancel = next(call, (err, result) =>
          onFill(err, result, {
            entry: this.store(call.route, policy, ask, err, result),
            first: true,
            collapsed: false,
          }),
        );
      }, policy.lockTimeoutMs);
      timer.unref();
    }
    return () => {
      clearTimeout(timer);
      cancel();
    };
  }

  private flight(
    next: Invoke,
    policy: CachePolicy,
    call: UpstreamCall,
    ask: Ask,
    background: boolean,
  ): Flight {
    const f: Flight = new Flight(
      ask.key,
      next,
      call,
      (err, result) => this.store(call.route, policy, ask, err, result),
      this.redis,
      policy.lockTimeoutMs,
      background,
      () => {
        if (this.flights.get(ask.key) === f) this.flights.delete(ask.key);
      },
    );
    this.flights.set(ask.key, f);
    return f;
  }

  /** Stores a backend answer when its kind and metadata allow; returns the entry, or undefined. */
  private store(
    route: Route,
    policy: CachePolicy,
    ask: Ask,
    err: GatewayError | undefined,
    result: UpstreamResult | undefined,
  ): Entry | undefined {
    if (ask.noStore) return undefined;
    const now = Date.now();
    let entry: Entry | undefined;
    if (err) {
      if (policy.errorTtlMs <= 0 || ask.credentialed || !STORABLE_ERRORS.has(err.code)) return undefined;
      const error = storedError(err);
      const until = now + policy.errorTtlMs;
      entry = {
        key: ask.key,
        storedAt: now,
        freshUntil: until,
        swrUntil: until,
        sieUntil: until,
        public: false,
        tags: policy.tags,
        error,
        size: sizeOf(undefined, error),
      };
    } else {
      if (result?.httpStatus !== 200) return undefined;
      const life = lifetimeOf(result.headers, policy, ask.credentialed);
      if (!life || (life.freshMs <= 0 && life.staleWhileRevalidateMs <= 0 && life.staleIfErrorMs <= 0))
        return undefined;
      // Rendered once here: every hit writes these bytes and this ETag (representation.ts).
      const rendered = renderForStore(route, result);
      if (!rendered) return undefined;
      const stored: UpstreamResult = { ...result, rendered };
      const freshUntil = now + life.freshMs;
      entry = {
        key: ask.key,
        storedAt: now,
        freshUntil,
        swrUntil: freshUntil + life.staleWhileRevalidateMs,
        sieUntil: freshUntil + life.staleIfErrorMs,
        public: life.public,
        tags: [...policy.tags, ...life.tags],
        result: stored,
        size: sizeOf(stored, undefined),
      };
    }
    if (entry.size > this.config.maxEntryBytes) return undefined;
    this.memory.set(entry, now);
    void this.redis?.set(entry, now);
    this.counts.stored++;
    return entry;
  }

  /**
   * The Cache-Status of a fresh hit on `e` with `ttl` seconds left: the same text for a whole second of
   * the entry's life, so it is made once a second, not once a hit (and Node's header check meets a
   * string it has flattened already).
   */
  private hitStatus(e: Entry, ttl: number): string {
    const last = this.hitTexts.get(e);
    if (last?.ttl === ttl) return last.text;
    const text = statusText(e, `hit; ttl=${ttl}`);
    this.hitTexts.set(e, { ttl, text });
    return text;
  }

  /** Answers with a stored entry (its Cache-Status already in the notes). */
  private serveEntry(call: UpstreamCall, e: Entry, now: number, done: Done): void {
    call.notes.cacheAge = Math.max(0, Math.floor((now - e.storedAt) / 1000));
    if (e.error) done(errorOf(e.error), undefined);
    else done(undefined, e.result);
  }
}

/** The call's encoding, made on first read (HttpCall): throws the request's transcoding error. */
function transcode(call: UpstreamCall): Buffer {
  return call.encoded;
}

/** The RFC 9211 Cache-Status value of an answer served from `e`. */
function statusText(e: Entry, what: string): string {
  return `protogate; ${what}; key="${e.key}"`;
}

/** The RFC 9211 Cache-Status value of an answer that went forward. */
function status(fwd: string, fwdStatus: number, stored: boolean, collapsed: boolean, key: string): string {
  return `protogate; ${fwd}; fwd-status=${fwdStatus}${stored ? "; stored" : ""}${collapsed ? "; collapsed" : ""}; key="${key}"`;
}

function ttlOf(e: Entry, now: number): number {
  return Math.floor((e.freshUntil - now) / 1000);
}

function statusOf(err: GatewayError): number {
  return err.httpStatus ?? httpStatusFromCode(err.code);
}

/** RFC 5861 section 4: stale-if-error covers 500, 502, 503 and 504 (here: any 5xx the call ends with). */
function isServerError(err: GatewayError): boolean {
  return statusOf(err) >= 500;
}

function cancelledError(): GatewayError {
  return errorOf({
    code: Code.CANCELLED,
    message: "the client went away",
    details: [],
    httpStatus: undefined,
    headers: undefined,
  });
}

/** Builds the cache from `options.cache`; without it, routes with `cache` settings are not cached. */
export function cacheInterceptor(config: CacheConfig | undefined, log: Log): Interceptor | undefined {
  return new ResponseCache(config ?? DEFAULT_CACHE_CONFIG, log);
}

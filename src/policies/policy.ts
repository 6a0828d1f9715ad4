import type { onRequestHookHandler } from "fastify";
import type { Route } from "../routing/route.js";
import type { Router } from "../routing/router.js";

/** What a policy may use from the gateway that builds it. */
export interface PolicyContext {
  readonly log: { info(m: string): void; warn(m: string): void; error(m: string): void };
  /** The route table in force (for a policy that looks routes up itself, as CORS preflights do). */
  readonly router: () => Router<Route>;
  /**
   * Whether the response cache may answer this route without the answer counting against rate limits
   * (`cache.hitsCountForRateLimit: false` and the route has cache settings). The rate limit then defers
   * its decision to the call (upstream/admission.ts) instead of deciding at the edge.
   */
  readonly cacheHitsAreFree: (route: Route) => boolean;
}

/**
 * A built edge policy: Fastify `onRequest` hooks (callback or async) in up to three places of the
 * request's way. `beforeMatch` runs before the route is known (CORS preflight finds the route itself); `afterMatch` runs once `req.gateway` holds the matched route, before
 * the body is read (CORS headers, auth, rate limit). A hook that throws answers with that error.
 */
export interface EdgePolicy {
  /** Runs on every request of the public listener, the gateway's own endpoints included (IP filter). */
  readonly global?: onRequestHookHandler;
  readonly beforeMatch?: onRequestHookHandler;
  readonly afterMatch?: onRequestHookHandler;
  /** What `/_protogate/status` shows of this policy (counters, store health); keyed by module name. */
  status?(): Record<string, unknown>;
  /** Releases connections and timers when the gateway closes. */
  close?(): Promise<void>;
}

/**
 * One edge policy: the config-file key it owns (its section of GatewayOptions, already read and checked
 * by its reader), its per-method settings (declared on RouteSettings by declaration merging in its own
 * folder, so routing holds no policy types), and the factory of its hooks. Registered, in the order its
 * hooks run, in src/server/pipeline.ts.
 */
export interface PolicyModule<Config> {
  readonly name: string;
  /** The GatewayOptions key (and config-file section) this policy owns. */
  readonly configKey: string;
  /** Builds the policy; undefined when it has nothing to do (not configured). May throw LoadError. */
  create(
    config: Config | undefined,
    ctx: PolicyContext,
  ): EdgePolicy | undefined | Promise<EdgePolicy | undefined>;
}

import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from "fastify";
import type { Route } from "../routing/route.js";
import type { Router } from "../routing/router.js";
import { matchRoute } from "./handler.js";
import { type PolicySet, runPhase } from "./lifecycle.js";

/**
 * The gateway's one Fastify `onRequest` hook, running its stages in order, so that a request goes
 * through Fastify's hook runner once instead of once per stage (about 0.5k instructions per hook and
 * request, bench/README.md):
 *   every request (the gateway's own endpoints too): observability in -> x-request-id -> global policies;
 *   then, on the routes from the protos only: beforeMatch policies -> the route match -> afterMatch policies.
 * Fastify binds a hook to the scope its route was registered in, so `this` tells the protos' routes
 * (`routeScope`) from the gateway's own endpoints.
 * Each phase runs the policy set in force when it starts (a reconfigure swaps the whole set with one
 * assignment; runPhase holds the set open while its hooks run).
 */
export interface EdgeStages {
  /** Counts the request in (metrics, the server span), before anything can answer it. */
  readonly observe: ((req: FastifyRequest) => void) | undefined;
  /** True once shutdown has begun: HTTP/1.1 answers then say `connection: close`. */
  readonly draining: () => boolean;
  readonly policies: () => PolicySet;
  readonly router: () => Router<Route>;
  /** The Fastify scope the routes from the protos are registered in (undefined until it is made). */
  readonly routeScope: () => FastifyInstance | undefined;
}

/** The hook every request runs: observability, x-request-id, the policies, and on a proto route its match. */
export function requestHook(stages: EdgeStages): onRequestHookHandler {
  const { observe, draining, policies, router, routeScope } = stages;
  return function request(this: FastifyInstance, req, reply, done) {
    observe?.(req);
    reply.header("x-request-id", req.id);
    // Shutting down: HTTP/1.1 clients are asked to leave their keep-alive connections before the
    // listener closes, so that none sends a request on a connection the drain is closing.
    if (draining() && req.raw.httpVersionMajor === 1) reply.header("connection", "close");
    const set = policies();
    if (this !== routeScope()) {
      runPhase(set, "global", this, req, reply, done);
      return;
    }
    if (set.hooks.global.length === 0 && set.hooks.beforeMatch.length === 0) {
      matchThenAfter(this, req, reply, done);
      return;
    }
    runPhase(set, "global", this, req, reply, (err) => {
      if (err) done(err);
      else if (reply.sent) done();
      else beforeMatch(this, req, reply, done);
    });
  };

  // Each phase reads the set again: a hook that waited may have outlived the set it began with.
  function beforeMatch(
    self: FastifyInstance,
    req: FastifyRequest,
    reply: FastifyReply,
    done: (err?: Error) => void,
  ): void {
    runPhase(policies(), "beforeMatch", self, req, reply, (err) => {
      if (err) done(err);
      else if (reply.sent) done();
      else matchThenAfter(self, req, reply, done);
    });
  }

  function matchThenAfter(
    self: FastifyInstance,
    req: FastifyRequest,
    reply: FastifyReply,
    done: (err?: Error) => void,
  ): void {
    const err = matchRoute(router(), req);
    if (err) done(err);
    else runPhase(policies(), "afterMatch", self, req, reply, done);
  }
}

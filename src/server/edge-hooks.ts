import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from "fastify";
import type { Route } from "../routing/route.js";
import type { Router } from "../routing/router.js";
import { matchRoute } from "./handler.js";
import { type PolicySet, runPhase } from "./lifecycle.js";

/**
 * The gateway's two Fastify `onRequest` hooks, each running its stages in order, so that a request goes
 * through Fastify's hook runner twice instead of once per stage (six; about 1k instructions per request,
 * bench/README.md):
 *   every request (the gateway's own endpoints too): observability in -> x-request-id -> global policies;
 *   the routes from the protos: beforeMatch policies -> the route match -> afterMatch policies.
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
}

/** The hook every request runs first: observability, x-request-id, the global policies (IP filter). */
export function requestHook(stages: EdgeStages): onRequestHookHandler {
  const { observe, draining, policies } = stages;
  return function request(this: FastifyInstance, req, reply, done) {
    observe?.(req);
    reply.header("x-request-id", req.id);
    // Shutting down: HTTP/1.1 clients are asked to leave their keep-alive connections before the
    // listener closes, so that none sends a request on a connection the drain is closing.
    if (draining() && req.raw.httpVersionMajor === 1) reply.header("connection", "close");
    runPhase(policies(), "global", this, req, reply, done);
  };
}

/** The hook of the routes from the protos: the policies around the route match, all before the body. */
export function routeHook(stages: EdgeStages): onRequestHookHandler {
  const { policies, router } = stages;
  return function route(this: FastifyInstance, req, reply, done) {
    const set = policies();
    if (set.hooks.beforeMatch.length === 0) {
      matchThenAfter(this, req, reply, done);
      return;
    }
    runPhase(set, "beforeMatch", this, req, reply, (err) => {
      if (err) done(err);
      else if (reply.sent) done();
      else matchThenAfter(this, req, reply, done);
    });
  };

  // afterMatch reads the set again: a beforeMatch hook that waited may have outlived the set it began with
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

import type { FastifyInstance, onRequestHookHandler } from "fastify";
import { Code } from "../../errors/code.js";
import { GatewayError } from "../../errors/gateway-error.js";
import type { Interceptor } from "../interceptor.js";
import { ResponseCache } from "./interceptor.js";
import type { PurgeSelector } from "./memory.js";

/**
 * `POST <prefix>/cache/purge` with a JSON body `{"route": "pkg.Service.Method"}`, `{"key": "<key from
 * Cache-Status>"}` or `{"tag": "books"}` (several: all must match). `guard` (localOnly on the public
 * port) keeps it to clients on this machine, like the other internal admin endpoints. Drops the entries
 * here and in Redis and, through Redis pub/sub, in every other instance's memory. Answers
 * `{"purged": n}`. The cache interceptor is always built (a route caches once its settings say so), so
 * the endpoint is always there and purges the cache of the configuration in force.
 */
export function registerCacheRoutes(
  app: FastifyInstance,
  prefix: string,
  interceptors: () => readonly Interceptor[],
  guard?: onRequestHookHandler,
): void {
  const cache = () => interceptors().find((i): i is ResponseCache => i instanceof ResponseCache);
  if (!cache()) return; // INTERCEPTORS always builds one; without it there is nothing to purge
  app.post(`${prefix}/cache/purge`, guard ? { onRequest: guard } : {}, async (req, reply) => {
    const sel = selector(req.body);
    const purged = await cache()!
      .purge(sel)
      .catch((err: unknown) => {
        throw new GatewayError(Code.UNAVAILABLE, `purge failed: ${(err as Error).message}`);
      });
    reply.type("application/json").send(JSON.stringify({ purged }));
  });
}

function selector(body: unknown): PurgeSelector {
  let o: unknown = body;
  if (typeof body === "string" || Buffer.isBuffer(body)) {
    try {
      o = JSON.parse(body.toString());
    } catch {
      o = undefined;
    }
  }
  const out: { route?: string; key?: string; tag?: string } = {};
  if (typeof o === "object" && o !== null)
    for (const k of ["route", "key", "tag"] as const) {
      const v = (o as Record<string, unknown>)[k];
      if (typeof v === "string" && v !== "") out[k] = v;
    }
  if (Object.keys(out).length === 0)
    throw new GatewayError(Code.INVALID_ARGUMENT, 'expected a JSON body with "route", "key" or "tag"');
  return out;
}

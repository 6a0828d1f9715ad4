import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { describeComposites } from "../compose/describe.js";
import { Code } from "../errors/code.js";
import { GatewayError } from "../errors/gateway-error.js";
import { sendError } from "./error-reply.js";
import type { Reloader } from "./reloader.js";
import { callKind } from "./streaming/settings.js";

/** The gateway's own endpoints live under this prefix; user routes there are shadowed. */
export const ADMIN_PREFIX = "/_protogate";

/** A Fastify instance of its own for the admin endpoints (`admin` in the options): errors as Status JSON. */
export function separateAdminApp(): FastifyInstance {
  const admin = Fastify({ logger: false });
  admin.setNotFoundHandler((req, reply) =>
    sendError(reply, new GatewayError(Code.NOT_FOUND, `no admin endpoint ${req.method} ${req.url}`)),
  );
  return admin;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/**
 * onRequest guard of the endpoints that show internals (status, routes, metrics) when they share the
 * public port: only a client on this machine that came straight, not through a proxy (no
 * X-Forwarded-For / Forwarded header), may see them; anyone else gets 403. With an admin listener of
 * their own (`server.admin`) the guard is not used: that listener's address is the access rule.
 */
export function localOnly(req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
  const peer = req.socket.remoteAddress ?? "";
  const proxied = req.headers["x-forwarded-for"] !== undefined || req.headers.forwarded !== undefined;
  if (LOOPBACK.has(peer) && !proxied) {
    done();
    return;
  }
  done(
    new GatewayError(
      Code.PERMISSION_DENIED,
      "the gateway's admin endpoints answer clients on this machine only; configure server.admin for a listener of their own",
    ),
  );
}

/**
 * Admin endpoints, registered as static routes so that Fastify matches them before the catch-all:
 * - `GET /_protogate/status`: the configuration in force and the last failed reload (file, line, cause);
 * - `GET /_protogate/routes`: the route table;
 * - `GET /_protogate/live`, `/_protogate/ready`: for load balancers and orchestrators, open to all.
 * `guard` (localOnly on the public port) protects status and routes.
 */
export function registerAdminRoutes(
  app: FastifyInstance,
  reloader: Reloader,
  status: () => object,
  brokers: () => Record<string, string>,
  guard?: typeof localOnly,
  draining: () => boolean = () => false,
): void {
  const internal = guard ? { onRequest: guard } : {};
  app.get(`${ADMIN_PREFIX}/status`, internal, async (_req, reply) => {
    reply.type("application/json").send(JSON.stringify(status()));
  });
  // Liveness: the process answers. Readiness: routes are loaded, every broker is connected, and no
  // shutdown has begun (SIGTERM: load balancers stop sending before the listener closes). A down gRPC
  // backend does not count, on purpose: it would take every gateway out at once (README, Readiness).
  app.get(`${ADMIN_PREFIX}/live`, async (_req, reply) =>
    reply.type("application/json").send('{"live":true}'),
  );
  app.get(`${ADMIN_PREFIX}/ready`, async (_req, reply) => {
    const b = brokers();
    const stopping = draining();
    const ready = !stopping && Object.values(b).every((s) => s === "connected");
    reply
      .code(ready ? 200 : 503)
      .type("application/json")
      .send(
        JSON.stringify({
          ready,
          routes: reloader.config().table.routes.length,
          brokers: b,
          ...(stopping ? { shuttingDown: true } : {}),
        }),
      );
  });
  app.get(`${ADMIN_PREFIX}/routes`, internal, async (_req, reply) => {
    const { table, backends } = reloader.config();
    const routes = table.routes.map((r) => ({
      method: r.httpMethod,
      path: r.template.source,
      rpc: r.method.fullName,
      kind: callKind(r.method),
      body: r.body.kind === "all" ? "*" : r.body.kind === "field" ? r.body.field.name : "",
      responseBody: r.responseBody?.name ?? "",
      backend: backends.get(r.method.service) ?? backends.get("") ?? "",
    }));
    const compositions = describeComposites(table.composites);
    reply.type("application/json").send(JSON.stringify({ routes, compositions, warnings: table.warnings }));
  });
}

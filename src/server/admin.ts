import Fastify, { type FastifyInstance } from "fastify";
import { Code } from "../errors/code.js";
import { GatewayError } from "../errors/gateway-error.js";
import { sendError } from "./error-reply.js";
import type { Reloader } from "./reloader.js";

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

/**
 * Admin endpoints, registered as static routes so that Fastify matches them before the catch-all:
 * - `GET /_protogate/status`: the configuration in force and the last failed reload (file, line, cause);
 * - `GET /_protogate/routes`: the route table.
 */
export function registerAdminRoutes(
  app: FastifyInstance,
  reloader: Reloader,
  status: () => object,
  brokers: () => Record<string, string>,
  draining: () => boolean = () => false,
): void {
  app.get(`${ADMIN_PREFIX}/status`, async (_req, reply) => {
    reply.type("application/json").send(JSON.stringify(status()));
  });
  // Liveness: the process answers. Readiness: routes are loaded, every broker is connected, and no
  // shutdown has begun (SIGTERM: load balancers stop sending before the listener closes).
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
  app.get(`${ADMIN_PREFIX}/routes`, async (_req, reply) => {
    const { table, backends } = reloader.config();
    const routes = table.routes.map((r) => ({
      method: r.httpMethod,
      path: r.template.source,
      rpc: r.method.fullName,
      body: r.body.kind === "all" ? "*" : r.body.kind === "field" ? r.body.field.name : "",
      responseBody: r.responseBody?.name ?? "",
      backend: backends.get(r.method.service) ?? backends.get("") ?? "",
    }));
    reply.type("application/json").send(JSON.stringify({ routes, warnings: table.warnings }));
  });
}

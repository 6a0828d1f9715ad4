import { METHODS } from "node:http";
import Fastify, { type FastifyInstance, LogController } from "fastify";
import { DEFAULTS, type GatewayOptions } from "../config/options.js";
import { Code } from "../errors/code.js";
import { GatewayError } from "../errors/gateway-error.js";
import { ChannelPool } from "../upstream/grpc/channels.js";
import { sendError, toGatewayError } from "./error-reply.js";
import { makeHandler } from "./handler.js";
import { type LoadedConfig, loadConfig } from "./load-table.js";

export interface Gateway {
  readonly app: FastifyInstance;
  /** The loaded protos, routes and backends in force. */
  readonly config: () => LoadedConfig;
  /** Starts listening; resolves to "http://host:port". */
  listen(): Promise<string>;
  /** Stops accepting, lets requests in flight finish, closes upstream channels. */
  close(): Promise<void>;
}

/** Builds a gateway from options. Throws LoadError if protos, rules or mappings are wrong. */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const loaded = loadConfig(options);
  const channels = new ChannelPool();
  const app = Fastify({
    logger: options.logLevel === false ? false : { level: options.logLevel ?? "info" },
    // Per-request lines are the access log's job, not Fastify's: they cost throughput on every request.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? DEFAULTS.bodyLimit,
    exposeHeadRoutes: false,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 8192 },
    // Errors Fastify raises before any route runs (a malformed URL) get the same Status shape.
    frameworkErrors: (err, _req, reply) => sendError(reply, toGatewayError(err)),
  });
  for (const w of loaded.table.warnings) app.log.warn(w);

  // Bodies stay raw: the transcoder parses JSON itself so that every error has the Status shape.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err, req, reply) => {
    const gwErr = toGatewayError(err);
    if (gwErr.code === Code.INTERNAL) req.log.error({ err }, "internal error");
    return sendError(reply, gwErr);
  });
  // Only reached for URLs the catch-all cannot take (Fastify's router refuses them).
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new GatewayError(Code.NOT_FOUND, `no route for ${req.method} ${req.url}`)),
  );

  const methods = new Set([
    ...METHODS.filter((m) => app.supportedMethods.includes(m)),
    ...loaded.table.routes.map((r) => r.httpMethod),
  ]);
  for (const m of methods) if (!app.supportedMethods.includes(m)) app.addHttpMethod(m, { hasBody: true });
  const handler = makeHandler(() => loaded, channels);
  app.route({ method: [...methods], url: "/", handler });
  app.route({ method: [...methods], url: "/*", handler });

  return {
    app,
    config: () => loaded,
    async listen() {
      const address = await app.listen({
        host: options.host ?? DEFAULTS.host,
        port: options.port ?? DEFAULTS.port,
      });
      return address;
    },
    async close() {
      // Drain requests in flight, but never longer than the grace period: then cut what is left.
      // Keep-alive connections are closed as soon as their last response is out.
      const grace = setTimeout(
        () => app.server.closeAllConnections(),
        options.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs,
      );
      const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
      try {
        await app.close();
      } finally {
        clearTimeout(grace);
        clearInterval(sweep);
        channels.close();
      }
    },
  };
}

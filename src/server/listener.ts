import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createH2cServer, createSecureServer, type Http2Session } from "node:http2";
import { createServer as createHttpsServer } from "node:https";
import { dirname } from "node:path";
import { createSecureContext, type SecureContextOptions } from "node:tls";
import { checkListenerOptions, LISTENER_DEFAULTS, type ServerTls } from "../config/listener-config.js";
import { LoadError } from "../config/load-error.js";
import { BAD_EXPECT, NO_HOST, refuse } from "./client-error.js";
import { DirectoryWatcher } from "./watch.js";

/** The GatewayOptions the public listener is made from (see src/config/options.ts). */
export interface ListenerOptions {
  readonly maxHeaderSize: number;
  readonly requestTimeoutMs?: number | undefined;
  readonly headersTimeoutMs?: number | undefined;
  readonly keepAliveTimeoutMs?: number | undefined;
  readonly maxConnections?: number | undefined;
  readonly tls?: ServerTls | undefined;
  readonly http2?: boolean | "h2c" | undefined;
}

type Handle = (req: IncomingMessage, res: ServerResponse) => void;
export type Logger = { info(msg: string): void; error(msg: string): void };

/**
 * Fastify's `serverFactory` for the public port: HTTP/1.1, HTTPS (`tls`), HTTPS with HTTP/2 by ALPN
 * beside HTTP/1.1 (`tls` + `http2: true`) or cleartext HTTP/2 with prior knowledge (`http2: "h2c"`);
 * bounded header, request and keep-alive times; an optional cap on open connections; and refusals Node
 * makes itself (no Host, bad Expect) answered as google.rpc.Status; Fastify's `clientErrorHandler` must
 * be `answerClientError` (./client-error.ts) for the others (malformed, too large, too slow).
 * Throws LoadError(CONFIG_INVALID) on a bad combination or unreadable certificate files.
 */
export function listenerFactory(o: ListenerOptions, log: Logger): (handle: Handle) => Server {
  checkListenerOptions(o, "server");
  return (handle: Handle) => {
    // RFC 9112 3.2; Node's own check answers with an empty body, and HTTP/2's allowHTTP1 has none.
    const onRequest: Handle = (req, res) =>
      req.headers.host === undefined && req.httpVersion === "1.1" ? refuse(res, NO_HOST) : handle(req, res);
    const server = makeServer(o, onRequest, log);
    server.on("checkExpectation", (_req: IncomingMessage, res: ServerResponse) => refuse(res, BAD_EXPECT));
    if (o.maxConnections !== undefined) server.maxConnections = o.maxConnections;
    return server;
  };
}

function makeServer(o: ListenerOptions, onRequest: Handle, log: Logger): Server {
  const timeouts = {
    requestTimeout: o.requestTimeoutMs ?? LISTENER_DEFAULTS.requestTimeoutMs,
    headersTimeout: o.headersTimeoutMs ?? LISTENER_DEFAULTS.headersTimeoutMs,
    keepAliveTimeout: o.keepAliveTimeoutMs ?? LISTENER_DEFAULTS.keepAliveTimeoutMs,
  };
  // Node checks the header/request deadlines on this period (30 s by default): a fraction of the
  // shortest, so that a slow client is cut close to its deadline.
  const connectionsCheckingInterval = Math.max(
    50,
    Math.min(5_000, (timeouts.headersTimeout || timeouts.requestTimeout || 20_000) / 4),
  );
  const http1 = {
    ...timeouts,
    connectionsCheckingInterval,
    maxHeaderSize: o.maxHeaderSize,
    requireHostHeader: false,
  };
  if (o.http2 === "h2c") {
    const server = createH2cServer({ settings: { maxHeaderListSize: o.maxHeaderSize } }, compat(onRequest));
    return asHttpServer(server, timeouts.keepAliveTimeout);
  }
  if (!o.tls) return createServer(http1, onRequest);
  const server = o.http2
    ? asHttpServer(
        Object.assign(
          createSecureServer(
            { ...readTls(o.tls), allowHTTP1: true, settings: { maxHeaderListSize: o.maxHeaderSize } },
            compat(onRequest),
          ),
          // For its HTTP/1.1 connections (Node reads these from the server object, not the options).
          { ...timeouts, connectionsCheckingInterval, maxHeaderSize: o.maxHeaderSize },
        ),
        timeouts.keepAliveTimeout,
      )
    : createHttpsServer({ ...readTls(o.tls), ...http1 }, onRequest);
  reloadOnChange(server, o.tls, log);
  return server;
}

/**
 * Certificates are renewed in place (cert-manager, a Kubernetes secret's symlink swap): while the server
 * listens, a change in the files' directories loads them again for new connections; a pair that does not
 * load is logged and the previous one stays.
 */
function reloadOnChange(server: Server, files: ServerTls, log: Logger): void {
  server.once("listening", () => {
    const watcher = new DirectoryWatcher(
      [dirname(files.cert), dirname(files.key)],
      () => {
        try {
          (server as unknown as { setSecureContext(c: SecureContextOptions): void }).setSecureContext(
            readTls(files),
          );
          log.info(`TLS certificate reloaded from ${files.cert}`);
        } catch (err) {
          log.error(`TLS certificate not reloaded, the previous one stays: ${(err as Error).message}`);
        }
      },
      (err) => log.error(`watching the TLS files: ${err.message}`),
      200,
    );
    server.once("close", () => watcher.close());
  });
}

/** Fastify's handler takes HTTP/2's compatibility request and response as it takes HTTP/1's. */
const compat = (handle: Handle) => handle as unknown as Parameters<typeof createH2cServer>[1] & object;

/** Reads the certificate and key and checks that they make a context. Throws LoadError. */
function readTls(files: ServerTls): SecureContextOptions {
  try {
    const context = { cert: readFileSync(files.cert), key: readFileSync(files.key) };
    createSecureContext(context); // a key that does not match the certificate fails here, not per handshake
    return context;
  } catch (err) {
    throw new LoadError("CONFIG_INVALID", "server.tls", (err as Error).message, { cause: err });
  }
}

/**
 * An HTTP/2 server in the shape gateway.close() and Fastify use on an HTTP/1 one: closeIdleConnections
 * (GOAWAY, streams in flight finish) and closeAllConnections (sessions destroyed). Idle sessions are
 * closed after keepAliveTimeout.
 */
function asHttpServer(server: ReturnType<typeof createH2cServer>, keepAliveTimeout: number): Server {
  const sessions = new Set<Http2Session>();
  server.on("session", (session: Http2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    if (keepAliveTimeout > 0) session.setTimeout(keepAliveTimeout, () => session.close());
  });
  const http1 = server as unknown as Partial<Pick<Server, "closeIdleConnections" | "closeAllConnections">>;
  const idle1 = http1.closeIdleConnections?.bind(server);
  const all1 = http1.closeAllConnections?.bind(server);
  return Object.assign(server, {
    closeIdleConnections() {
      idle1?.();
      for (const s of sessions) s.close();
    },
    closeAllConnections() {
      all1?.();
      for (const s of sessions) s.destroy();
    },
  }) as unknown as Server;
}

import { type IncomingMessage, type Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { Code } from "../../errors/code.js";
import type { Route } from "../../routing/route.js";
import type { Match, Router } from "../../routing/router.js";

/**
 * A WebSocket upgrade on its way through Fastify (onRequest hooks, route match, edge policies, handler):
 * what the handler needs to complete it with acceptWebSocket (./websocket.ts). `res` is a stand-in
 * response on the upgrade's socket: a refusal by any hook is written there as an ordinary HTTP answer
 * (401, 403, 429... with its headers and google.rpc.Status body), then the socket is closed.
 */
export interface PendingUpgrade {
  readonly socket: Duplex;
  /** The first bytes after the request's headers (ws frames the client sent at once). */
  readonly head: Buffer;
  readonly res: ServerResponse;
  readonly wss: WebSocketServer;
  /** Set by acceptWebSocket: the socket is the WebSocket's from then on. */
  accepted: boolean;
  /** Header lines added to the 101 answer (x-request-id, RateLimit, CORS), set by acceptWebSocket. */
  extraHeaders: readonly string[];
}

/** The close code of sessions open when the gateway shuts down (RFC 6455 7.4.1 "going away"). */
export const GOING_AWAY = 1001;

const kUpgrade = Symbol("protogate.websocketUpgrade");
type Marked = IncomingMessage & { [kUpgrade]?: PendingUpgrade };

/** The pending WebSocket upgrade of a request, or undefined for an ordinary request. */
export function pendingUpgrade(req: IncomingMessage): PendingUpgrade | undefined {
  return (req as Marked)[kUpgrade];
}

/**
 * Routes WebSocket upgrades of `server` (its 'upgrade' event) through Fastify's own request handling
 * (`routing`, FastifyInstance.routing), so that they pass the same hooks as an HTTP request to the
 * route: IP filter, CORS origin check, auth, rate limit (one per upgrade), request id, metrics and the
 * access log. The handler completes the upgrade (acceptWebSocket) once every hook has let it through.
 * Upgrades to another protocol (`Upgrade: h2c`...) are served as ordinary requests, the header ignored
 * (RFC 9110 7.8), when they have no body; with a body they are refused with 400, since the body can no
 * longer be read once Node has handed the socket over.
 *
 * Why this and not @fastify/websocket: that plugin does the same thing underneath (a ServerResponse on
 * the upgrade's socket handed to `fastify.routing`), but it serves routes declared `{websocket: true}`,
 * where protogate has one catch-all route and its own route table (a streaming method's rule may name
 * POST, and an upgrade is a GET); a dozen lines here keep the route table the only one, with no new
 * dependency, and no policy logic is repeated: the policies' own hooks answer.
 *
 * Returns the function that stops it and closes every open WebSocket with 1001 (GOING_AWAY), for the
 * gateway's close: call it before the server's, whose close waits for their sockets.
 */
export function routeUpgrades(
  server: Server,
  routing: (req: IncomingMessage, res: ServerResponse) => void,
): () => void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  wss.on("headers", (lines: string[], req: IncomingMessage) => {
    const extra = pendingUpgrade(req)?.extraHeaders;
    if (extra) lines.push(...extra);
  });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const websocket = String(req.headers.upgrade ?? "").toLowerCase() === "websocket";
    if (!websocket && hasBody(req)) {
      socket.end(
        statusAnswer("400 Bad Request", Code.INVALID_ARGUMENT, "Upgrade is only served for websocket"),
      );
      return;
    }
    socket.on("error", () => undefined); // a reset by the client: the 'close' that follows ends it all
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false; // no parser is left on this socket: one answer, then it closes
    res.assignSocket(socket as Socket);
    const upgrade: PendingUpgrade = { socket, head, res, wss, accepted: false, extraHeaders: [] };
    res.once("finish", () => {
      if (upgrade.accepted) return;
      res.detachSocket(socket as Socket);
      socket.end();
    });
    if (websocket) (req as Marked)[kUpgrade] = upgrade;
    try {
      routing(req, res);
    } catch {
      socket.destroy();
    }
  };
  server.on("upgrade", onUpgrade);
  return () => {
    server.off("upgrade", onUpgrade);
    // The server's close waits for every socket: open sessions are told to go (1001, RFC 6455 7.4.1),
    // which cancels their calls; a client that does not answer the close frame is cut a second later.
    for (const ws of wss.clients) ws.close(GOING_AWAY, "the gateway is shutting down");
    setTimeout(() => {
      for (const ws of wss.clients) ws.terminate();
    }, 1000).unref();
    wss.close();
  };
}

/**
 * The streaming route an upgrade on `path` opens: the first route on the path, by GET, POST, PUT then
 * PATCH, whose target is a stream (an upgrade is a GET whatever method the method's rule names).
 * Undefined when the path has no streaming route (the upgrade is answered 404).
 */
export function findStreamRoute(table: Router<Route>, path: string): Match<Route> | undefined {
  for (const method of ["GET", "POST", "PUT", "PATCH"]) {
    const match = table.find(method, path);
    const target = (match?.route as { target?: { shape?: string } } | undefined)?.target;
    if (match && target?.shape === "stream") return match;
  }
  return undefined;
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/** A complete HTTP/1.1 answer with a google.rpc.Status body, for a socket no response object owns. */
function statusAnswer(status: string, code: number, message: string): string {
  const body = JSON.stringify({ code, message, details: [] });
  return `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { Code } from "../../errors/code.js";
import { GatewayError } from "../../errors/gateway-error.js";
import { renderError } from "../../errors/status-json.js";
import type { Route } from "../../routing/route.js";
import type { Router } from "../../routing/router.js";
import { timeoutMs } from "../../upstream/grpc/deadline.js";
import { requestMetadata } from "../../upstream/grpc/metadata.js";
import type { StreamControl, StreamTarget } from "../../upstream/target.js";
import { encodeStreamRequest, messageJson } from "./messages.js";
import { streamSettings } from "./settings.js";

/**
 * WebSocket close codes: 1000 when the call ended OK, else 4000 + the gRPC code (4003
 * INVALID_ARGUMENT, 4004 DEADLINE_EXCEEDED, 4014 UNAVAILABLE...), the reason being the status message
 * (cut to the 123 bytes a close frame allows). Issue #14 item 6.
 */
export const WS_CLOSE_BASE = 4000;

/** A text frame with nothing in it: the client has no more messages to send (half-close). */
export const HALF_CLOSE_FRAME = "";

/**
 * Streaming methods over WebSocket, on the HTTP server's 'upgrade' event: an upgrade on the path of a
 * streaming route (whatever HTTP method the rule names) opens the call. One text frame is one JSON
 * message each way; an empty text frame half-closes; the server's last frame is the status record
 * (`{"end":{"trailers":{...}}}` or `{"error":<google.rpc.Status>}`), then it closes with 1000 or
 * 4000 + code. The client closing early cancels the call. Upgrades on other paths get 404 and are
 * closed. `refusal`: upgrades are all refused with 501 and this message (gateway.ts sets it while
 * access-guarding edge policies are configured, since they do not run on upgrades).
 */
export function serveWebSockets(server: Server, router: () => Router<Route>, refusal?: string): () => void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // The edge policies (auth, IP lists, rate limits) are Fastify hooks that an upgrade never passes:
    // while any is configured, upgrades are refused rather than let around them.
    if (refusal) return void refuse(socket, "501 Not Implemented", Code.UNIMPLEMENTED, refusal);
    const found = findStreamRoute(router(), req.url ?? "/");
    if (!found)
      return void refuse(socket, "404 Not Found", Code.NOT_FOUND, `no streaming route for ${req.url}`);
    wss.handleUpgrade(req, socket, head, (ws) => bridge(ws, req, found));
  };
  server.on("upgrade", onUpgrade);
  return () => {
    server.off("upgrade", onUpgrade);
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  };
}

interface Found {
  readonly route: Route & { readonly target: StreamTarget };
  readonly segments: readonly string[];
  readonly query: string;
}

function findStreamRoute(table: Router<Route>, url: string): Found | undefined {
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  for (const method of ["GET", "POST", "PUT", "PATCH"]) {
    const match = table.find(method, path);
    const target = (match?.route as { target?: { shape?: string } } | undefined)?.target;
    if (match && target?.shape === "stream") {
      return {
        route: match.route as Found["route"],
        segments: match.segments,
        query: q === -1 ? "" : url.slice(q + 1),
      };
    }
  }
  return undefined;
}

function bridge(ws: WebSocket, req: IncomingMessage, found: Found): void {
  const { route, segments, query } = found;
  const settings = streamSettings(route.settings.stream);
  const metadata = requestMetadata(req.headers, req.rawHeaders, req.socket.remoteAddress);
  let finished = false;
  let count = 0;
  const finish = (err: GatewayError | undefined, trailers: Record<string, string[]>): void => {
    if (finished) return;
    finished = true;
    if (ws.readyState !== ws.OPEN) return;
    ws.send(err ? `{"error":${renderError(err).body}}` : `{"end":${JSON.stringify({ trailers })}}`);
    if (err) ws.close(WS_CLOSE_BASE + err.code, closeReason(err.message));
    else ws.close(1000);
  };
  const control: StreamControl = route.target.open(
    { metadata, timeoutMs: timeoutMs(req.headers["grpc-timeout"], 0), notes: {} },
    {
      onHeaders: () => undefined,
      onMessage(message) {
        if (finished) return;
        ws.send(messageJson(route, settings.wrapMessages, message));
        // Backpressure: stop reading from the backend while the socket has much unsent.
        if (ws.bufferedAmount > 1024 * 1024) {
          control.pause();
          const wait = (): void => {
            if (finished || ws.readyState !== ws.OPEN) return;
            if (ws.bufferedAmount > 256 * 1024) setTimeout(wait, 10);
            else control.resume();
          };
          setTimeout(wait, 10);
        }
      },
      onEnd: finish,
      onDrain: () => req.socket.resume(),
    },
  );
  const fail = (err: GatewayError): void => {
    finish(err, {});
    control.cancel();
  };
  ws.on("message", (data: RawData, isBinary: boolean) => {
    if (finished) return;
    const text = Buffer.isBuffer(data)
      ? data
      : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
    if (isBinary)
      return fail(new GatewayError(Code.INVALID_ARGUMENT, "binary frames are not accepted: send JSON text"));
    if (text.length === 0) return control.end(); // HALF_CLOSE_FRAME
    if (!route.target.clientStreaming && count > 0)
      return fail(new GatewayError(Code.INVALID_ARGUMENT, "this method takes one request message"));
    count++;
    if (settings.maxMessages > 0 && count > settings.maxMessages)
      return fail(
        new GatewayError(Code.RESOURCE_EXHAUSTED, `more than ${settings.maxMessages} request messages`),
      );
    if (text.length > settings.maxMessageBytes)
      return fail(
        new GatewayError(
          Code.RESOURCE_EXHAUSTED,
          `request message ${count} is larger than ${settings.maxMessageBytes} bytes`,
        ),
      );
    try {
      if (!control.write(encodeStreamRequest(route, segments, query, text))) req.socket.pause();
      if (!route.target.clientStreaming) control.end();
    } catch (err) {
      fail(
        err instanceof GatewayError ? err : new GatewayError(Code.INVALID_ARGUMENT, (err as Error).message),
      );
    }
  });
  ws.on("close", () => {
    if (finished) return;
    finished = true;
    control.cancel();
  });
  ws.on("error", () => undefined);
}

function refuse(socket: Duplex, status: string, code: number, message: string): void {
  const body = JSON.stringify({ code, message, details: [] });
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** A close reason fits in 123 bytes of UTF-8. */
function closeReason(message: string): string {
  let reason = message;
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}

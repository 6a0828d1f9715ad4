import type { RawData, WebSocket } from "ws";
import { Code } from "../../errors/code.js";
import { GatewayError } from "../../errors/gateway-error.js";
import { renderError } from "../../errors/status-json.js";
import { isShutdownEnd } from "../../interceptors/stream-drain.js";
import type { StreamControl } from "../../upstream/target.js";
import type { StreamRequest } from "./http-stream.js";
import { encodeStreamRequest, messageJson } from "./messages.js";
import { streamSettings } from "./settings.js";
import { GOING_AWAY, type PendingUpgrade } from "./websocket-upgrade.js";

/**
 * WebSocket close codes: 1000 when the call ended OK, else 4000 + the gRPC code (4003
 * INVALID_ARGUMENT, 4004 DEADLINE_EXCEEDED, 4014 UNAVAILABLE...), the reason being the status message
 * (cut to the 123 bytes a close frame allows). Issue #14 item 6.
 */
export const WS_CLOSE_BASE = 4000;

/** A text frame with nothing in it: the client has no more messages to send (half-close). */
export const HALF_CLOSE_FRAME = "";

/**
 * Completes a WebSocket upgrade that every hook let through (the handler calls it for a streaming route
 * once Fastify's reply is hijacked) and bridges the socket to the call: one text frame is one JSON
 * message each way; an empty text frame half-closes; the server's last frame is the status record
 * (`{"end":{"trailers":{...}}}` or `{"error":<google.rpc.Status>}`), then it closes with 1000 or
 * 4000 + code. The client closing early cancels the call. The 101 answer carries the reply's headers
 * set so far (x-request-id, RateLimit, CORS); the call's metadata is the handler's (forwarded headers,
 * x-request-id, the caller's JWT claims). When the session ends, the stand-in response "finishes" so
 * that Fastify's onResponse hooks (metrics, access log) count it out: status 101, its duration, and
 * client_disconnected only when it ended without a close frame. Sizes: `notes.bytesIn` and
 * `notes.bytesOut` count the payload bytes of the messages received (a refused binary one too) and sent
 * (text): not frame headers, masks, pings nor the close frame; for the access log's bytesIn/bytesOut and
 * the body size histograms.
 */
export function acceptWebSocket(s: StreamRequest, upgrade: PendingUpgrade): void {
  upgrade.accepted = true;
  upgrade.extraHeaders = headerLines(s.headers);
  const { socket, res } = upgrade;
  res.statusCode = 101;
  s.notes.bytesIn = 0;
  s.notes.bytesOut = 0;
  // Counted out once: at the WebSocket's close (clean unless 1006, no close frame), or when the socket
  // closes without one (a handshake ws refused, 400); `finished` tells onResponse it was no disconnect.
  let counted = false;
  const countOut = (clean: boolean): void => {
    if (counted) return;
    counted = true;
    res.finished = clean;
    res.emit("finish");
  };
  socket.once("close", () => setTimeout(() => countOut(false), 100));
  upgrade.wss.handleUpgrade(s.req, socket, upgrade.head, (ws) => {
    ws.once("close", (code: number) => countOut(code !== 1006));
    bridge(ws, s);
  });
}

/** Headers a 101 may not repeat or must not carry: the handshake's own, and a body's. */
const HANDSHAKE = /^(connection|upgrade|sec-websocket-.*|content-length|content-type|transfer-encoding)$/i;

function headerLines(headers: StreamRequest["headers"]): string[] {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HANDSHAKE.test(name)) continue;
    for (const v of Array.isArray(value) ? value : [String(value)])
      if (!/[\r\n]/.test(v)) lines.push(`${name}: ${v}`);
  }
  return lines;
}

function bridge(ws: WebSocket, s: StreamRequest): void {
  const { route, target, segments, query, req, notes } = s;
  const settings = streamSettings(route.settings.stream);
  let finished = false;
  let count = 0;
  let bytesIn = 0;
  let bytesOut = 0;
  /** Sends one text message, its payload bytes counted. */
  const send = (text: string): void => {
    notes.bytesOut = bytesOut += Buffer.byteLength(text);
    ws.send(text);
  };
  const finish = (err: GatewayError | undefined, trailers: Record<string, string[]>): void => {
    if (finished) return;
    finished = true;
    if (ws.readyState !== ws.OPEN) return;
    send(err ? `{"error":${renderError(err).body}}` : `{"end":${JSON.stringify({ trailers })}}`);
    // a stream ended by the gateway's shutdown: 1001, going away (RFC 6455 7.4.1), so clients reconnect
    if (err) ws.close(isShutdownEnd(err) ? GOING_AWAY : WS_CLOSE_BASE + err.code, closeReason(err.message));
    else ws.close(1000);
  };
  const control: StreamControl = target.open(
    { metadata: s.metadata, timeoutMs: s.timeoutMs, notes: s.notes },
    {
      onHeaders: () => undefined,
      onMessage(message) {
        if (finished) return;
        send(messageJson(route, settings.wrapMessages, message));
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
    const text = Buffer.isBuffer(data)
      ? data
      : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
    notes.bytesIn = bytesIn += text.length; // every message received, even after the call ended
    if (finished) return;
    if (isBinary)
      return fail(new GatewayError(Code.INVALID_ARGUMENT, "binary frames are not accepted: send JSON text"));
    if (text.length === 0) return control.end(); // HALF_CLOSE_FRAME
    if (!target.clientStreaming && count > 0)
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
      if (!target.clientStreaming) control.end();
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

/** A close reason fits in 123 bytes of UTF-8. */
function closeReason(message: string): string {
  let reason = message;
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { encodeMessage } from "../../codec/index.js";
import { Code } from "../../errors/code.js";
import { GatewayError } from "../../errors/gateway-error.js";
import { renderError } from "../../errors/status-json.js";
import type { Route } from "../../routing/route.js";
import { buildRequest } from "../../transcode/request.js";
import { renderResponse } from "../../transcode/response.js";
import { type CallNotes, ENCODED_OFFSET } from "../../upstream/call.js";
import type { Metadata } from "../../upstream/call-metadata.js";
import type { StreamControl, StreamTarget } from "../../upstream/target.js";
import { chooseFraming, type Framing } from "./framing.js";
import { encodeStreamRequest, messageJson } from "./messages.js";
import { arrayMessages, type BodyReader, readNdjson } from "./request-messages.js";
import { streamSettings } from "./settings.js";

/** What the handler hands over for a streaming route. */
export interface StreamRequest {
  readonly route: Route;
  readonly target: StreamTarget;
  readonly req: IncomingMessage;
  /** Fastify's view of the body: a Buffer (buffered), the raw request (NDJSON), or undefined. */
  readonly body: unknown;
  readonly segments: readonly string[];
  readonly query: string;
  readonly metadata: Metadata;
  readonly timeoutMs: number;
  readonly notes: CallNotes;
  /** Headers already set for the reply (x-request-id, CORS...), kept on the streamed answer. */
  readonly headers: Record<string, string | string[] | number | undefined>;
}

/**
 * Serves one call of a streaming route on `res` (Fastify's reply, hijacked):
 * - the request: server streaming takes one message from path, query and body as unary routes do;
 *   client and bidi streaming send each NDJSON line (or JSON array element) as it arrives;
 * - the answer: a server or bidi stream in the framing Accept asks for (framing.ts), each message
 *   written as it comes; a client stream's single answer as a unary JSON reply;
 * - until the first message is written, an error is a normal error answer (status from the code
 *   table); after it, the framing's error record; HTTP trailers grpc-status/grpc-message too when the
 *   client sent `TE: trailers`;
 * - backpressure: when res.write() returns false the upstream is paused until 'drain';
 * - the client going away cancels the upstream at once; `maxStreamDuration` and `idleTimeout` end
 *   the stream with DEADLINE_EXCEEDED;
 * - SSE: a `Last-Event-ID` is forwarded as `last-event-id` metadata and numbering continues after it;
 * - sizes: the body bytes written go to `notes.bytesOut` as they are written, and those of an NDJSON
 *   body read to `notes.bytesIn`, for the access log and the body size histograms (no Content-Length).
 */
export function serveStream(s: StreamRequest, res: ServerResponse): void {
  const { route, target, req, notes } = s;
  const settings = streamSettings(route.settings.stream);
  // Every body byte goes through `write`/`end` (or sendError/sendAnswer), counted as it leaves.
  let bytesOut = 0;
  notes.bytesOut = 0;
  const write = (text: string): boolean => {
    notes.bytesOut = bytesOut += Buffer.byteLength(text);
    return res.write(text);
  };
  const framing: Framing | undefined = target.serverStreaming ? chooseFraming(req.headers.accept) : undefined;
  let seq = 1;
  if (framing?.name === "sse") {
    const last = req.headers["last-event-id"];
    if (typeof last === "string" && last !== "") {
      s.metadata.set("last-event-id", last);
      if (/^\d{1,15}$/.test(last)) seq = Number(last) + 1;
    }
  }
  const wantsTrailers = /\btrailers\b/i.test(String(req.headers.te ?? ""));
  let upstreamHeaders: Record<string, string[]> = {};
  let committed = false;
  let finished = false;
  let answer: Buffer | undefined; // a client stream's single answer
  let body: BodyReader | undefined;
  const timers: NodeJS.Timeout[] = [];
  let idle: NodeJS.Timeout | undefined;

  const commit = (): void => {
    committed = true;
    res.writeHead(200, {
      ...s.headers,
      ...upstreamHeaders,
      "content-type": framing!.contentType,
      "cache-control": "no-cache",
      "x-accel-buffering": "no", // nginx: pass each message on at once
      ...(wantsTrailers ? { trailer: "grpc-status, grpc-message" } : {}),
    });
    const start = framing!.start(settings.retry);
    if (start) write(start);
    else res.flushHeaders();
  };
  const finish = (err: GatewayError | undefined, trailers: Record<string, string[]>): void => {
    if (finished) return;
    finished = true;
    for (const t of timers) clearTimeout(t);
    if (idle) clearTimeout(idle);
    body?.stop();
    if (res.destroyed) return;
    if (!committed) {
      if (err) return void sendError(res, s, err);
      if (!framing) return void sendAnswer(res, s, upstreamHeaders, answer);
      commit();
    }
    write(err ? framing!.error(renderError(err).body) : framing!.end(trailers));
    if (wantsTrailers) {
      res.addTrailers({
        "grpc-status": String(err ? err.code : Code.OK),
        "grpc-message": encodeURIComponent(err ? err.message : ""),
      });
    }
    res.end();
  };
  /** Ends the call from this side: the client's record says why, the upstream is cancelled. */
  const stopWith = (err: GatewayError): void => {
    finish(err, {});
    control.cancel();
  };
  const armIdle = (): void => {
    if (settings.idleTimeout <= 0 || finished) return;
    if (idle) idle.refresh();
    else
      idle = setTimeout(
        () =>
          stopWith(
            new GatewayError(
              Code.DEADLINE_EXCEEDED,
              `no message from the backend in ${settings.idleTimeout} ms`,
            ),
          ),
        settings.idleTimeout,
      );
  };

  const control: StreamControl = target.open(
    { metadata: s.metadata, timeoutMs: s.timeoutMs, notes: s.notes },
    {
      onHeaders(headers) {
        upstreamHeaders = headers;
      },
      onMessage(message) {
        if (finished) return;
        armIdle();
        if (!framing) {
          answer = message;
          return;
        }
        let json: string;
        try {
          json = messageJson(route, settings.wrapMessages, message);
        } catch (err) {
          return stopWith(
            new GatewayError(
              Code.INTERNAL,
              `a backend message could not be decoded: ${(err as Error).message}`,
            ),
          );
        }
        if (!committed) commit();
        if (!write(framing.message(json, seq++))) {
          control.pause();
          res.once("drain", () => control.resume());
        }
      },
      onEnd: finish,
      onDrain() {
        body?.resume();
      },
    },
  );
  // The client went away (or the answer is complete): nothing more from the backend.
  res.once("close", () => {
    if (finished) return;
    finished = true;
    for (const t of timers) clearTimeout(t);
    if (idle) clearTimeout(idle);
    body?.stop();
    control.cancel();
  });
  if (settings.maxStreamDuration > 0) {
    timers.push(
      setTimeout(
        () =>
          stopWith(
            new GatewayError(
              Code.DEADLINE_EXCEEDED,
              `the stream lasted longer than ${settings.maxStreamDuration} ms (maxStreamDuration)`,
            ),
          ),
        settings.maxStreamDuration,
      ),
    );
  }
  armIdle();
  if (framing?.name === "sse" && settings.heartbeatInterval > 0) {
    const beat = setInterval(() => {
      if (finished || res.destroyed) return clearInterval(beat);
      if (!committed) commit();
      write(framing.heartbeat());
    }, settings.heartbeatInterval);
    timers.push(beat);
  }
  if (finished) return;
  try {
    if (!target.clientStreaming) {
      const message = buildRequest(route, {
        segments: s.segments,
        query: s.query,
        body: s.body as Buffer | undefined,
        contentType: req.headers["content-type"],
      });
      control.write(encodeMessage(route.method.input, message, ENCODED_OFFSET));
      control.end();
      return;
    }
    const send = (json: Buffer): boolean =>
      control.write(encodeStreamRequest(route, s.segments, s.query, json));
    if (isReadable(s.body)) {
      countBytesIn(s.body, notes);
      body = readNdjson(s.body, settings, {
        message: (json) => {
          try {
            return send(json);
          } catch (err) {
            stopWith(asInvalid(err));
            return false;
          }
        },
        end: () => control.end(),
        fail: stopWith,
      });
      return;
    }
    const whole = s.body as Buffer | undefined;
    if (whole && whole.length > 0) for (const m of arrayMessages(whole, settings)) send(m);
    control.end();
  } catch (err) {
    stopWith(asInvalid(err));
  }
}

function isReadable(body: unknown): body is Readable {
  return typeof (body as Readable | undefined)?.on === "function" && !Buffer.isBuffer(body);
}

/**
 * Counts a streamed body's bytes into `notes.bytesIn` as they arrive: every chunk, including what is
 * drained unread after the call stopped reading (those bytes came over the wire too).
 */
function countBytesIn(body: Readable, notes: CallNotes): void {
  let bytesIn = 0;
  notes.bytesIn = 0;
  body.on("data", (chunk: Buffer) => {
    notes.bytesIn = bytesIn += chunk.length;
  });
}

function asInvalid(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError(Code.INVALID_ARGUMENT, (err as Error).message, { cause: err });
}

function sendError(res: ServerResponse, s: StreamRequest, err: GatewayError): void {
  const { status, body, headers: errHeaders } = renderError(err);
  res.writeHead(status, { ...s.headers, ...errHeaders, "content-type": "application/json" });
  s.notes.bytesOut = Buffer.byteLength(body);
  res.end(body);
}

function sendAnswer(
  res: ServerResponse,
  s: StreamRequest,
  upstreamHeaders: Record<string, string[]>,
  answer: Buffer | undefined,
): void {
  const { contentType, body } = renderResponse(s.route, answer ?? Buffer.alloc(0));
  res.writeHead(200, { ...s.headers, ...upstreamHeaders, "content-type": contentType });
  const bytes = typeof body === "string" ? body : Buffer.from(body);
  s.notes.bytesOut = Buffer.byteLength(bytes);
  res.end(bytes);
}

import type { IncomingHttpHeaders } from "node:http";
import type { Msg } from "../codec/index.js";
import type { GatewayError } from "../errors/gateway-error.js";
import type { Route } from "../routing/route.js";
import type { Admission } from "./admission.js";
import type { Metadata } from "./call-metadata.js";

/**
 * One call to an upstream, protocol-neutral: what every target and interceptor gets. Built by the
 * handler once per request; interceptors may read it, annotate it, and (retry) invoke `next` with it
 * again. `message` and `encoded` may be made on first read (the handler's HttpCall on a route whose
 * chain transcodes on demand, interceptors/interceptor.ts): reading them can then throw the request's
 * transcoding error, which only the outermost interceptor meets, synchronously.
 */
export interface UpstreamCall {
  readonly route: Route;
  /** The request message as the transcoder built it (proto field names, protobufjs-style values). */
  readonly message: Msg;
  /**
   * The message's binary encoding after `ENCODED_OFFSET` (5) free bytes: a gRPC target writes its
   * length prefix there without a copy; `encoded.subarray(ENCODED_OFFSET)` is the plain encoding.
   */
  readonly encoded: Buffer;
  /**
   * The client's HTTP request headers as Node parsed them (lower-case names), for interceptors that
   * decide by them (the cache: Authorization, Cookie, Vary, Cache-Control). Not forwarded as such.
   */
  readonly headers: IncomingHttpHeaders;
  /** What travels to the backend as gRPC metadata or AMQP headers: forwarded HTTP headers, x-request-id, trace context, claims. */
  readonly metadata: Metadata;
  /** Time this call may take, ms; 0 for no deadline. Interceptors that spend time (retry) lower it. */
  timeoutMs: number;
  /** The request id (x-request-id), for logs and messages. */
  readonly requestId: string;
  /** The authenticated caller, as `ownerOf(identity)` gives it (issuer and subject); undefined when anonymous. */
  readonly principal: string | undefined;
  /** The caller's forwarded claims (auth `forwardClaims`) by metadata key, printable text; also in `metadata`. */
  readonly claims: Readonly<Record<string, string>>;
  /** The client's `Idempotency-Key` header, when it sent a printable one (1-200 characters). */
  readonly idempotencyKey: string | undefined;
  /** What interceptors and targets learned on the way, for the access log, metrics and traces. */
  readonly notes: CallNotes;
  /**
   * The request as the client sent it, before transcoding, when the call came from one (the handler's;
   * a composition's calls have none). The cache keys a hit by it without transcoding (cache/raw-keys.ts).
   */
  readonly raw?: RawRequest | undefined;
  /**
   * An edge check (the rate limit) deferred until this call goes upstream: run it before that, or waive
   * it when the answer comes from the cache (admission.ts). Undefined: nothing was deferred.
   */
  readonly admission?: Admission | undefined;
}

/**
 * What the message of a call is made from, as received: the same inputs give the same message (and
 * the same transcoding error) for one route, so they can stand for it in a memo.
 */
export interface RawRequest {
  /** The request target: the path and query as sent (`req.url`). */
  readonly target: string;
  /** The request body; undefined or empty when there is none. */
  readonly body: Buffer | undefined;
  readonly contentType: string | undefined;
}

/**
 * A copy of `call` with another time budget, ms (a retry attempt, a per-try timeout). Every field is read
 * into the copy, so a call whose fields are getters (HttpCall's metadata, built on first read) copies
 * right: an object spread would leave them out. The copy shares the call's metadata and notes objects.
 */
export function withTimeout(call: UpstreamCall, timeoutMs: number): UpstreamCall {
  // Every key of UpstreamCall, required: a field added to the interface and not copied fails to compile.
  const copy: { [K in keyof Required<UpstreamCall>]: UpstreamCall[K] } = {
    route: call.route,
    message: call.message,
    encoded: call.encoded,
    headers: call.headers,
    metadata: call.metadata,
    timeoutMs,
    requestId: call.requestId,
    principal: call.principal,
    claims: call.claims,
    idempotencyKey: call.idempotencyKey,
    notes: call.notes,
    admission: call.admission,
    raw: call.raw,
  };
  return copy;
}

/** Offset of the plain encoding in `UpstreamCall.encoded` (the gRPC message prefix: flag + length). */
export const ENCODED_OFFSET = 5;

/** Facts about one call gathered on its way; all optional, written by whoever knows them. */
export interface CallNotes {
  /** The backend address (gRPC) or broker name (AMQP) of the last attempt. */
  backend?: string;
  /** Attempts made, including the first (retries add to it). */
  attempts?: number;
  /** Time spent in upstream calls, ms (all attempts). */
  upstreamMs?: number;
  /** Outcome label of the upstream: a gRPC code name ("OK", "UNAVAILABLE") or an AMQP outcome ("confirmed"). */
  outcome?: string;
  /** RFC 9211 Cache-Status value, set by the cache on every answer of a caching route. */
  cacheStatus?: string;
  /** Seconds since a cached answer was stored (the Age header), set by the cache when it serves one. */
  cacheAge?: number;
  /** The `traceparent` the call came with, noted by the first CLIENT span ("" for none): every attempt's parent. */
  parentTraceparent?: string;
  /**
   * Streamed requests only: bytes of the request body read so far, counted by the stream code (an
   * NDJSON client stream: every byte of its lines, newlines included; a WebSocket session: the payload
   * bytes of the messages received, not their frame headers). Set only where a body is read as a stream,
   * so unary requests never carry it; the access log's `bytesIn` and the request size histogram take it
   * before Content-Length.
   */
  bytesIn?: number;
  /**
   * Streamed answers only: bytes of the response body written so far, after framing (NDJSON lines, SSE
   * `id:`/`data:` records and heartbeats, the JSON array's brackets and commas, the final status record;
   * a WebSocket session: the payload bytes of the text messages sent, not their frame headers nor the
   * close frame). Not HTTP chunk framing nor headers. The access log's `bytesOut` and the response size
   * histogram take it, a streamed answer having no Content-Length.
   */
  bytesOut?: number;
  [extra: string]: unknown;
}

/**
 * A successful upstream answer. Either `message` (the output message's binary encoding, rendered by the
 * handler with the route's JSON options and response_body) or `body` (an answer the target rendered
 * itself, e.g. the 202 + Operation of an AMQP command).
 */
export interface UpstreamResult {
  /** HTTP status of the success: 200, or 202 for an accepted command. */
  readonly httpStatus: number;
  /** Response headers from the backend's metadata, already filtered for HTTP. */
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly message?: Buffer;
  readonly body?: { readonly contentType: string; readonly bytes: string | Buffer };
  /**
   * The answer as the HTTP client gets it, when the cache rendered it once on storing it (a hit writes
   * these bytes and this ETag as they are). The handler prefers it to `message`/`body`; other readers
   * (compositions) use `message`/`body`.
   */
  readonly rendered?: RenderedBody;
}

/** A rendered 200 answer: its content type, its bytes, and its strong ETag (RFC 9110 8.8.3, quoted). */
export interface RenderedBody {
  readonly contentType: string;
  readonly bytes: Buffer;
  readonly etag: string;
}

/**
 * How a call ends: exactly once, never synchronously inside `invoke`. `err` is set when it failed (its
 * gRPC code, message, details and headers are what the client will see); else `result` is set.
 */
export type Done = (err: GatewayError | undefined, result: UpstreamResult | undefined) => void;

/** Stops a call in flight (the client went away); `done` is then called with CANCELLED. Idempotent. */
export type Cancel = () => void;

/**
 * Starts a unary call. Callback-shaped, not a promise, so that the hot path allocates no promise per
 * request (see docs/request-flow.md). Throws nothing: every failure goes to `done`.
 */
export type Invoke = (call: UpstreamCall, done: Done) => Cancel;

import type { Socket } from "node:net";
import type { FastifyReply, FastifyRequest } from "fastify";
import { encodeMessage } from "../codec/index.js";
import type { CompositeRoute } from "../compose/route.js";
import { Code } from "../errors/code.js";
import { GatewayError } from "../errors/gateway-error.js";
import { conditionalReply, etagOf, markCacheStatus } from "../interceptors/cache/conditional.js";
import type { StoredEncodings } from "../interceptors/cache/encodings.js";
import { ownerOf } from "../policies/auth/authenticator.js";
import type { Route } from "../routing/route.js";
import type { Router } from "../routing/router.js";
import { buildRequest } from "../transcode/request.js";
import { renderResponse } from "../transcode/response.js";
import { ENCODED_OFFSET, type Invoke, type UpstreamCall, type UpstreamResult } from "../upstream/call.js";
import { timeoutMs } from "../upstream/grpc/deadline.js";
import type { Target } from "../upstream/target.js";
import { callMetadata, HttpCall, type RequestParts } from "./http-call.js";
import { type StreamRequest, serveStream } from "./streaming/http-stream.js";
import { acceptWebSocket } from "./streaming/websocket.js";
import { findStreamRoute, pendingUpgrade } from "./streaming/websocket-upgrade.js";

/** A route with its target and interceptor chain, bound when the table is compiled (load-table.ts). */
export interface ServedRoute extends Route {
  readonly target: Target;
  /** The target's invoke wrapped by the interceptors that apply to this route (unary targets). */
  readonly invoke: Invoke;
  /** `invoke` transcodes the call itself, when it needs the message (interceptors/interceptor.ts). */
  readonly transcodeOnDemand: boolean;
}

// The type Fastify sends for a JSON text, given whole: told only "application/json", Fastify appends
// "; charset=utf-8" per reply, and Node's header check takes a slow path on the concatenated string.
const JSON_TEXT_TYPE = "application/json; charset=utf-8";
const JSON_TYPE = "application/json";

const NO_CLAIMS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Finds the route of a request before its body is read, so that an unknown path (404), a wrong method
 * (405) and, next, a missing token (401) cost no body parsing: sets `req.gateway` and returns undefined,
 * or returns the error to answer. A WebSocket upgrade finds the streaming route on its path, whatever
 * HTTP method the rule names (404 when there is none). Run by the route stage's hook (edge-hooks.ts).
 */
export function matchRoute(table: Router<Route>, req: FastifyRequest): GatewayError | undefined {
  const url = req.raw.url ?? "/";
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  const upgrade = pendingUpgrade(req.raw) !== undefined;
  const found = upgrade ? findStreamRoute(table, path) : table.find(req.method, path);
  if (!found) {
    return upgrade
      ? new GatewayError(Code.NOT_FOUND, `no streaming route for a WebSocket on ${path}`)
      : noRoute(table, req.method, path);
  }
  req.gateway = {
    match: found,
    query: q === -1 ? "" : url.slice(q + 1),
    identity: undefined,
    claims: undefined,
    admission: undefined,
    notes: undefined,
  };
  return undefined;
}

/**
 * The call: transcode -> the route's interceptors and target -> render. `reservedKeys` are metadata
 * keys only the gateway sets (forwarded claims): whatever the client sent under them is dropped.
 * `encodings` (when the listener compresses): the compressed forms of the cache's stored answers.
 */
export function makeHandler(reservedKeys: readonly string[], encodings?: StoredEncodings) {
  // Not async: the answer is written from the call's callback, without a promise per request; what
  // throws here synchronously reaches Fastify's error handler like a rejection would.
  return function handle(req: FastifyRequest, reply: FastifyReply): undefined {
    const state = req.gateway!;
    const matched = state.match.route as ServedRoute | CompositeRoute;
    const admission = state.admission;
    if (admission?.pending && matched.target.shape !== "unary") {
      // A stream or a composition is never a cache hit: the deferred rate limit decides now.
      admission.admit((refusal) => (refusal ? reply.send(refusal) : handle(req, reply)));
      return undefined;
    }
    if (matched.target.shape === "composite")
      return serveComposite(req, reply, matched as CompositeRoute, reservedKeys);
    const route = matched as ServedRoute;
    const claims = state.claims ?? NO_CLAIMS;
    if (route.target.shape === "stream") {
      const notes = {};
      state.notes = notes;
      reply.hijack(); // the stream writes the raw response itself (src/server/streaming/)
      const stream: StreamRequest = {
        route,
        target: route.target,
        req: req.raw,
        body: req.body,
        segments: state.match.segments,
        query: state.query,
        metadata: callMetadata(req, claims, reservedKeys),
        // A stream's life is bounded by Grpc-Timeout or stream.maxStreamDuration, not the unary timeoutMs.
        timeoutMs: timeoutMs(req.headers["grpc-timeout"], 0),
        notes,
        headers: reply.getHeaders(),
      };
      const upgrade = pendingUpgrade(req.raw);
      if (upgrade) acceptWebSocket(stream, upgrade);
      else serveStream(stream, reply.raw);
      return undefined;
    }
    const parts: RequestParts = {
      segments: state.match.segments,
      query: state.query,
      body: req.body as Buffer | undefined,
      contentType: req.headers["content-type"],
      target: req.raw.url ?? "/",
    };
    // Transcoded here (a bad request throws its 400 from here), unless the chain does it on demand.
    const message = route.transcodeOnDemand ? undefined : buildRequest(route, parts);
    const call = new HttpCall(
      route,
      parts,
      message,
      message && encodeMessage(route.method.input, message, ENCODED_OFFSET),
      req,
      timeoutMs(
        req.headers["grpc-timeout"],
        route.settings.timeoutMs,
        route.settings.maxTimeoutMs ?? route.settings.timeoutMs,
      ),
      state.identity ? ownerOf(state.identity) : undefined,
      claims,
      idempotencyKey(req.headers["idempotency-key"]),
      {},
      admission,
      reservedKeys,
    );
    state.notes = call.notes;
    const socket = req.raw.socket;
    const cancel = route.invoke(call, (err, result) => {
      untrackCall(socket, cancel);
      if (err) {
        markCacheStatus(reply, call.notes);
        reply.send(err);
        return;
      }
      try {
        send(reply, route, result!, call, encodings);
      } catch (e) {
        reply.send(e); // an answer that cannot be rendered is an error reply, never a hang
      }
    });
    trackCall(socket, cancel);
    return undefined;
  };
}

/** A composite route (src/compose/): its target runs the calls and renders the answer itself. */
function serveComposite(
  req: FastifyRequest,
  reply: FastifyReply,
  route: CompositeRoute,
  reservedKeys: readonly string[],
): undefined {
  const state = req.gateway!;
  const claims = state.claims ?? NO_CLAIMS;
  const notes = {};
  state.notes = notes;
  const socket = req.raw.socket;
  const cancel = route.target.serve(
    {
      segments: state.match.segments,
      query: state.query,
      body: req.body as Buffer | undefined,
      metadata: callMetadata(req, claims, reservedKeys),
      timeoutMs: timeoutMs(
        req.headers["grpc-timeout"],
        route.settings.timeoutMs,
        route.settings.maxTimeoutMs ?? route.settings.timeoutMs,
      ),
      requestId: req.id,
      principal: state.identity ? ownerOf(state.identity) : undefined,
      claims,
      headers: req.headers,
    },
    (err, result) => {
      untrackCall(socket, cancel);
      if (err) reply.send(err);
      else
        reply
          .code(result!.httpStatus)
          .headers(result!.headers)
          .type(result!.body!.contentType)
          .send(result!.body!.bytes);
    },
  );
  trackCall(socket, cancel);
  return undefined;
}

/**
 * The answer: what the cache rendered when it stored it (written as is, with its ETag), the target's
 * own body, or the output message rendered with the route's JSON options.
 */
function send(
  reply: FastifyReply,
  route: Route,
  result: UpstreamResult,
  call: UpstreamCall,
  encodings: StoredEncodings | undefined,
): void {
  reply.code(result.httpStatus).headers(result.headers);
  markCacheStatus(reply, call.notes);
  const caching = call.notes.cacheStatus !== undefined;
  const stored = result.rendered;
  if (stored) {
    if (caching && conditionalReply(reply, call.headers, result.httpStatus, stored.etag)) return;
    if (encodings?.send(reply, call.headers, stored)) return; // its compressed form, made once
    reply.type(stored.contentType).send(stored.bytes);
    return;
  }
  if (result.body) {
    reply.type(result.body.contentType).send(result.body.bytes);
    return;
  }
  const { contentType, body } = renderResponse(route, result.message!);
  if (caching && conditionalReply(reply, call.headers, result.httpStatus, etagOf(body))) return;
  if (typeof body === "string")
    reply.type(contentType === JSON_TYPE ? JSON_TEXT_TYPE : contentType).send(body);
  else reply.type(contentType).send(Buffer.from(body));
}

/** A printable Idempotency-Key of 1-200 characters, else none (draft-ietf-httpapi-idempotency-key-header). */
function idempotencyKey(v: string | string[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  const s = Array.isArray(v) ? v[0] : v;
  return s && /^[\x21-\x7e]{1,200}$/.test(s) ? s : undefined;
}

/**
 * The calls in flight on each client connection: when the client goes away, the backend's work stops
 * too. One listener per connection, not one per request (that costs on every request).
 */
const kCalls = Symbol("protogate.calls");
type Cancel = () => void;
/** A connection's calls: none yet, one (HTTP/1.1, almost always), or several (HTTP/2, pipelining). */
const NONE: Cancel = () => undefined;
// An array only for several calls, and never a Set: a long-lived Set with an add and a delete per
// request keeps garbage alive across young GCs (see upstream/grpc/h2/stream-table.ts); one call held
// as itself costs no push, search and splice per request.
type TrackedSocket = Socket & { [kCalls]?: Cancel | Cancel[] };

function trackCall(socket: TrackedSocket, cancel: Cancel): void {
  const held = socket[kCalls];
  if (held === undefined) {
    socket.once("close", () => {
      const calls = socket[kCalls];
      socket[kCalls] = NONE;
      if (Array.isArray(calls)) for (const c of calls.splice(0)) c();
      else calls?.();
    });
    socket[kCalls] = cancel;
  } else if (held === NONE) socket[kCalls] = cancel;
  else if (Array.isArray(held)) held.push(cancel);
  else socket[kCalls] = [held, cancel];
}

function untrackCall(socket: TrackedSocket, cancel: Cancel): void {
  const held = socket[kCalls];
  if (held === cancel) socket[kCalls] = NONE;
  else if (Array.isArray(held)) {
    const i = held.indexOf(cancel);
    if (i >= 0) held.splice(i, 1);
  }
}

function noRoute(router: Router<Route>, method: string, path: string): GatewayError {
  const allowed = router.allowedMethods(path);
  if (allowed.length > 0) {
    return new GatewayError(Code.UNIMPLEMENTED, `method ${method} is not allowed on ${path}`, {
      httpStatus: 405,
      headers: { allow: allowed.join(", ") },
    });
  }
  return new GatewayError(Code.NOT_FOUND, `no route for ${method} ${path}`);
}

import type { Socket } from "node:net";
import type { FastifyReply, FastifyRequest } from "fastify";
import { encodeMessage } from "../codec/index.js";
import { Code } from "../errors/code.js";
import { GatewayError } from "../errors/gateway-error.js";
import { type Identity, ownerOf } from "../policies/auth/authenticator.js";
import type { Route } from "../routing/route.js";
import type { Match } from "../routing/router.js";
import { buildRequest } from "../transcode/request.js";
import { renderResponse } from "../transcode/response.js";
import type { AmqpUpstream } from "../upstream/amqp/upstream.js";
import type { Metadata } from "../upstream/call-metadata.js";
import type { BackendChannels } from "../upstream/grpc/backends.js";
import { timeoutMs } from "../upstream/grpc/deadline.js";
import { requestMetadata, responseHeaders } from "../upstream/grpc/metadata.js";
import { errorFromStatus } from "../upstream/grpc/status.js";
import { callUnary } from "../upstream/grpc/unary.js";
import { MESSAGE_PREFIX } from "../upstream/grpc/wire.js";
import type { LoadedConfig } from "./load-table.js";

/** What the hooks learn about a request before the handler runs. */
export interface RequestState {
  /** The configuration in force when the request arrived: a reload never changes a request halfway. */
  readonly config: LoadedConfig;
  readonly match: Match<Route>;
  /** The query string without "?". */
  readonly query: string;
  /** Set by the auth hook when a valid token came with the request. */
  identity: Identity | undefined;
}

declare module "fastify" {
  interface FastifyRequest {
    gateway: RequestState | null;
  }
}

/**
 * onRequest: finds the route before the body is read, so that an unknown path (404), a wrong method
 * (405) and, next, a missing token (401) cost no body parsing.
 */
export function matchRoute(current: () => LoadedConfig) {
  // A callback hook, not an async one: no promise per request.
  return function match(req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
    const config = current();
    const url = req.raw.url ?? "/";
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);
    const found = config.table.router.find(req.method, path);
    if (!found) {
      done(noRoute(config, req.method, path));
      return;
    }
    req.gateway = { config, match: found, query: q === -1 ? "" : url.slice(q + 1), identity: undefined };
    done();
  };
}

/**
 * The call: transcode -> upstream -> render. `forwardedClaims` are the metadata keys identity claims
 * travel under; a client may not send them itself.
 */
export function makeHandler(
  channels: BackendChannels,
  forwardedClaims: ReadonlyMap<string, string>,
  amqp: AmqpUpstream | undefined,
) {
  // Not async: the gRPC path answers from the call's callback, without a promise per request; what
  // throws here synchronously reaches Fastify's error handler like a rejection would.
  return function handle(req: FastifyRequest, reply: FastifyReply): Promise<void> | undefined {
    const { config, match, query, identity } = req.gateway!;
    const route = match.route;
    const parts = {
      segments: match.segments,
      query,
      body: req.body as Buffer | undefined,
      contentType: req.headers["content-type"],
    };
    const binding = config.amqp.get(route.method.fullName);
    if (binding) {
      if (!amqp) {
        throw new GatewayError(
          Code.UNAVAILABLE,
          `${route.method.fullName} is bound to AMQP, but no broker is configured (amqp: in the config file)`,
        );
      }
      return amqp
        .handle(route, binding, buildRequest(route, parts), req, claimValues(identity), ownerOf(identity))
        .then((answer) => {
          reply.code(answer.status).headers(answer.headers).type(answer.contentType).send(answer.body);
        });
    }
    const backend = config.backends.get(route.method.service) ?? config.backends.get("");
    if (!backend)
      throw new GatewayError(Code.UNAVAILABLE, `no backend is configured for ${route.method.service}`);

    const request = encodeMessage(route.method.input, buildRequest(route, parts), MESSAGE_PREFIX);
    const metadata = requestMetadata(req.headers, req.raw.rawHeaders, req.socket.remoteAddress);
    metadata.set("x-request-id", req.id);
    if (forwardedClaims.size > 0) forwardClaims(metadata, forwardedClaims, identity);
    const timeout = timeoutMs(req.headers["grpc-timeout"], route.settings.timeoutMs);
    const socket = req.raw.socket;
    const cancel = callUnary(
      channels.get(backend),
      route.method.path,
      request,
      metadata,
      timeout,
      (result) => {
        untrackCall(socket, cancel);
        try {
          if (result.status.code !== Code.OK) {
            reply.send(errorFromStatus(result.status, result.headers, config.registry.findMessage));
            return;
          }
          const headers = responseHeaders(result.headers, result.status.metadata);
          sendResult(reply, route, result.message ?? Buffer.alloc(0), headers);
        } catch (err) {
          reply.send(err); // an answer that cannot be rendered is an error reply, never a hang
        }
      },
    );
    trackCall(socket, cancel);
    return undefined;
  };
}

/**
 * The calls in flight on each client connection: when the client goes away, the backend's work stops
 * too. One listener per connection, not one per request (that costs on every request).
 */
const kCalls = Symbol("protogate.calls");
// An array, not a Set: a long-lived Set with an add and a delete per request keeps garbage alive
// across young GCs (see upstream/grpc/h2/stream-table.ts). HTTP/1.1 has one call per connection at a
// time (a few with pipelining), so the array stays tiny.
type TrackedSocket = Socket & { [kCalls]?: Array<() => void> };

function trackCall(socket: TrackedSocket, cancel: () => void): void {
  let calls = socket[kCalls];
  if (!calls) {
    const list: Array<() => void> = [];
    socket[kCalls] = calls = list;
    socket.once("close", () => {
      for (const c of list.splice(0)) c();
    });
  }
  calls.push(cancel);
}

function untrackCall(socket: TrackedSocket, cancel: () => void): void {
  const calls = socket[kCalls];
  if (!calls) return;
  const i = calls.indexOf(cancel);
  if (i >= 0) calls.splice(i, 1);
}

/** Claims go under their configured keys; whatever the client sent under those keys is dropped. */
function forwardClaims(
  md: Metadata,
  keys: ReadonlyMap<string, string>,
  identity: Identity | undefined,
): void {
  for (const key of keys.values()) md.remove(key);
  for (const [key, text] of Object.entries(claimValues(identity))) md.set(key, text);
}

/** The identity's forwarded claims as metadata key -> printable text (for gRPC metadata and AMQP headers). */
export function claimValues(identity: Identity | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!identity) return out;
  for (const [claim, key] of Object.entries(identity.provider.forwardClaims)) {
    const v = identity.claims[claim];
    if (v === undefined || v === null) continue;
    const text = Array.isArray(v) ? v.join(",") : typeof v === "object" ? JSON.stringify(v) : String(v);
    if (/^[\x20-\x7e]*$/.test(text)) out[key] = text;
  }
  return out;
}

function sendResult(
  reply: FastifyReply,
  route: Route,
  message: Buffer,
  headers: Record<string, string[]>,
): void {
  const { contentType, body } = renderResponse(route, message);
  reply
    .code(200)
    .headers(headers)
    .type(contentType)
    .send(typeof body === "string" ? body : Buffer.from(body));
}

function noRoute(config: LoadedConfig, method: string, path: string): GatewayError {
  const allowed = config.table.router.allowedMethods(path);
  if (allowed.length > 0) {
    return new GatewayError(Code.UNIMPLEMENTED, `method ${method} is not allowed on ${path}`, {
      httpStatus: 405,
      headers: { allow: allowed.join(", ") },
    });
  }
  return new GatewayError(Code.NOT_FOUND, `no route for ${method} ${path}`);
}

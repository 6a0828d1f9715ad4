import type { IncomingHttpHeaders } from "node:http";
import type { FastifyRequest } from "fastify";
import type { Msg } from "../codec/index.js";
import type { Route } from "../routing/route.js";
import type { Admission } from "../upstream/admission.js";
import type { CallNotes, UpstreamCall } from "../upstream/call.js";
import type { Metadata } from "../upstream/call-metadata.js";
import { requestMetadata } from "../upstream/grpc/metadata.js";

/**
 * The UpstreamCall of one HTTP request. Its `metadata` is built on first read: a cache hit (the cache
 * is the outermost interceptor) never reads it, so it does not pay for the forwarded headers, and every
 * reader after the first gets the same object (interceptors add to it: trace context, retry attempts).
 */
export class HttpCall implements UpstreamCall {
  private built: Metadata | undefined;

  constructor(
    readonly route: Route,
    readonly message: Msg,
    readonly encoded: Buffer,
    readonly headers: IncomingHttpHeaders,
    public timeoutMs: number,
    readonly requestId: string,
    readonly principal: string | undefined,
    readonly claims: Readonly<Record<string, string>>,
    readonly idempotencyKey: string | undefined,
    readonly notes: CallNotes,
    readonly admission: Admission | undefined,
    private readonly req: FastifyRequest,
    private readonly reservedKeys: readonly string[],
  ) {}

  get metadata(): Metadata {
    this.built ??= callMetadata(this.req, this.claims, this.reservedKeys);
    return this.built;
  }
}

/**
 * What a request sends upstream as metadata: its forwarded headers (upstream/grpc/metadata.ts),
 * x-request-id, and the caller's claims by metadata key over anything the client sent under the
 * `reservedKeys` (the keys only the gateway sets).
 */
export function callMetadata(
  req: FastifyRequest,
  claims: Readonly<Record<string, string>>,
  reservedKeys: readonly string[],
): Metadata {
  const metadata = requestMetadata(req.headers, req.raw.rawHeaders, req.socket.remoteAddress);
  metadata.set("x-request-id", req.id);
  if (reservedKeys.length > 0) {
    for (const key of reservedKeys) metadata.remove(key);
    for (const key in claims) metadata.set(key, claims[key]!);
  }
  return metadata;
}

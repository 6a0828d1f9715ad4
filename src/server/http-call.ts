import type { IncomingHttpHeaders } from "node:http";
import type { FastifyRequest } from "fastify";
import { encodeMessage, type Msg } from "../codec/index.js";
import type { Route } from "../routing/route.js";
import { buildRequest, type HttpRequestParts } from "../transcode/request.js";
import type { Admission } from "../upstream/admission.js";
import { type CallNotes, ENCODED_OFFSET, type RawRequest, type UpstreamCall } from "../upstream/call.js";
import type { Metadata } from "../upstream/call-metadata.js";
import { requestMetadata } from "../upstream/grpc/metadata.js";

/** What the handler transcodes a request from; also the call's RawRequest (`target`: req.url). */
export interface RequestParts extends HttpRequestParts, RawRequest {}

/**
 * The UpstreamCall of one HTTP request. Its `metadata` is built on first read: a cache hit (the cache
 * is the outermost interceptor) never reads it, so it does not pay for the forwarded headers, and every
 * reader after the first gets the same object (interceptors add to it: trace context, retry attempts).
 * What the metadata is made of is taken when the call is made, not when it is first read: a
 * stale-while-revalidate refresh reads it after the answer is sent, when the client's socket (and its
 * address, for X-Forwarded-For) may be gone; and the call keeps no reference to the request.
 * `message` and `encoded` are the ones given, or (a route that transcodes on demand, given none) made
 * from `parts` on first read, which throws the request's transcoding error (GatewayError,
 * JsonMappingError, PercentDecodeError: the 400).
 */
export class HttpCall implements UpstreamCall {
  readonly headers: IncomingHttpHeaders;
  readonly requestId: string;
  private readonly rawHeaders: readonly string[];
  private readonly remoteAddress: string | undefined;
  private built: Metadata | undefined;

  constructor(
    readonly route: Route,
    private readonly parts: RequestParts,
    private msg: Msg | undefined,
    private bytes: Buffer | undefined,
    req: FastifyRequest,
    public timeoutMs: number,
    readonly principal: string | undefined,
    readonly claims: Readonly<Record<string, string>>,
    readonly idempotencyKey: string | undefined,
    readonly notes: CallNotes,
    readonly admission: Admission | undefined,
    private readonly reservedKeys: readonly string[],
  ) {
    this.headers = req.headers;
    this.requestId = req.id;
    this.rawHeaders = req.raw.rawHeaders;
    this.remoteAddress = req.socket.remoteAddress;
  }

  get message(): Msg {
    this.msg ??= buildRequest(this.route, this.parts);
    return this.msg;
  }

  get encoded(): Buffer {
    this.bytes ??= encodeMessage(this.route.method.input, this.message, ENCODED_OFFSET);
    return this.bytes;
  }

  get raw(): RawRequest {
    return this.parts;
  }

  get metadata(): Metadata {
    this.built ??= metadataOf(
      this.headers,
      this.rawHeaders,
      this.remoteAddress,
      this.requestId,
      this.claims,
      this.reservedKeys,
    );
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
  return metadataOf(req.headers, req.raw.rawHeaders, req.socket.remoteAddress, req.id, claims, reservedKeys);
}

function metadataOf(
  headers: IncomingHttpHeaders,
  rawHeaders: readonly string[],
  remoteAddress: string | undefined,
  requestId: string,
  claims: Readonly<Record<string, string>>,
  reservedKeys: readonly string[],
): Metadata {
  const metadata = requestMetadata(headers, rawHeaders, remoteAddress);
  metadata.set("x-request-id", requestId);
  if (reservedKeys.length > 0) {
    for (const key of reservedKeys) metadata.remove(key);
    for (const key in claims) metadata.set(key, claims[key]!);
  }
  return metadata;
}

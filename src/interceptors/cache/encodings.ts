import type { IncomingHttpHeaders } from "node:http";
import { brotliCompressSync, constants, deflateSync, gzipSync } from "node:zlib";
import { Negotiator } from "@fastify/accept-negotiator";
import type { FastifyReply } from "fastify";
import type { RenderedBody } from "../../upstream/call.js";

/** What the listener's compression does (server/compression.ts), for the cache to do it once per answer. */
export interface CompressionRules {
  /** Smallest body compressed, bytes. */
  readonly threshold: number;
  /** Encodings offered, in order of preference. */
  readonly encodings: readonly ("br" | "gzip" | "deflate")[];
  /** Content types that are compressed. */
  readonly compressible: RegExp;
}

type Encoding = CompressionRules["encodings"][number];

/** The same codecs and settings as @fastify/compress: brotli at quality 4, zlib's defaults. */
const COMPRESS: Record<Encoding, (b: Buffer) => Buffer> = {
  br: (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }),
  gzip: (b) => gzipSync(b),
  deflate: (b) => deflateSync(b),
};

/** `*` and `x-gzip` mean gzip, as @fastify/compress reads them. */
const GZIP_ALIAS = /\*|x-gzip/gu;

/**
 * The compressed forms of the answers the cache stored, one per content-encoding (RFC 9110 8.4),
 * made the first time a client asks for it and kept with the stored answer (for as long as the entry
 * lives: a WeakMap on its RenderedBody). A hit in an encoding already made is a write of stored bytes:
 * no compression per hit. The choice follows @fastify/compress's own (the same negotiator, threshold,
 * types and codecs), which then leaves the reply alone because it has a Content-Encoding.
 */
export class StoredEncodings {
  private readonly forms = new WeakMap<RenderedBody, Map<Encoding, Buffer>>();
  private readonly negotiator: Negotiator<Encoding>;
  /** Compressed forms made so far (`/_protogate/status`, compression.storedForms): once per answer and encoding. */
  made = 0;

  constructor(private readonly rules: CompressionRules) {
    this.negotiator = new Negotiator({ supportedValues: [...rules.encodings] });
  }

  /**
   * Sends `body` in the encoding the request accepts, with Content-Encoding and Vary; false when it
   * goes as it is (too small, a type not compressed, no encoding accepted: the caller sends it).
   */
  send(reply: FastifyReply, headers: IncomingHttpHeaders, body: RenderedBody): boolean {
    const accept = headers["accept-encoding"];
    if (accept === undefined || headers["x-no-compression"] !== undefined) return false;
    if (body.bytes.length < this.rules.threshold || !this.rules.compressible.test(body.contentType))
      return false;
    const encoding = this.negotiator.negotiate(accept.toLowerCase().replace(GZIP_ALIAS, "gzip"));
    if (!encoding) return false;
    let forms = this.forms.get(body);
    if (!forms) this.forms.set(body, (forms = new Map()));
    let bytes = forms.get(encoding);
    if (!bytes) {
      forms.set(encoding, (bytes = COMPRESS[encoding](body.bytes)));
      this.made++;
    }
    reply.header("content-encoding", encoding).header("vary", varyWith(reply.getHeader("vary")));
    reply.type(body.contentType).send(bytes);
    return true;
  }
}

function varyWith(current: unknown): string {
  const v = current === undefined ? "" : String(current);
  return /accept-encoding/i.test(v) ? v : v ? `${v}, accept-encoding` : "accept-encoding";
}

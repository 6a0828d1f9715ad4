import type { Code } from "../../errors/code.js";
import { type AnyJson, GatewayError } from "../../errors/gateway-error.js";
import type { UpstreamResult } from "../../upstream/call.js";

/** A stored answer: a success result or an error, with its windows as epoch ms. */
export interface Entry {
  /** `<method full name>:<sha256 hex>`: the route is its prefix, for purges by route. */
  readonly key: string;
  readonly storedAt: number;
  readonly freshUntil: number;
  /** Served at once (and refreshed in the background) until then. */
  readonly swrUntil: number;
  /** Served instead of a backend failure until then. */
  readonly sieUntil: number;
  readonly public: boolean;
  readonly tags: readonly string[];
  /** A success: the backend's result with `rendered`, the answer as every hit writes it (representation.ts). */
  readonly result?: UpstreamResult;
  readonly error?: StoredError;
  /** Approximate bytes held, for the LRU's bound. */
  readonly size: number;
}

export interface StoredError {
  readonly code: number;
  readonly message: string;
  readonly details: AnyJson[];
  readonly httpStatus: number | undefined;
  readonly headers: Record<string, string | string[]> | undefined;
}

/** Until when the entry is worth keeping at all (the longest of its windows). */
export function keepUntil(e: Pick<Entry, "freshUntil" | "swrUntil" | "sieUntil">): number {
  return Math.max(e.freshUntil, e.swrUntil, e.sieUntil);
}

export function storedError(err: GatewayError): StoredError {
  return {
    code: err.code,
    message: err.message,
    details: err.details,
    httpStatus: err.httpStatus,
    headers: err.headers,
  };
}

export function errorOf(s: StoredError): GatewayError {
  return new GatewayError(s.code as Code, s.message, {
    details: s.details,
    ...(s.httpStatus !== undefined ? { httpStatus: s.httpStatus } : {}),
    ...(s.headers ? { headers: s.headers } : {}),
  });
}

/** Bytes an answer holds: its body plus a rough share for headers and bookkeeping. */
export function sizeOf(result: UpstreamResult | undefined, error: StoredError | undefined): number {
  let n = 256;
  if (result?.message) n += result.message.length;
  if (result?.body)
    n += typeof result.body.bytes === "string" ? result.body.bytes.length * 2 : result.body.bytes.length;
  // The rendered answer twice: room for its compressed forms (encodings.ts), each smaller than it.
  if (result?.rendered) n += result.rendered.bytes.length * 2 + result.rendered.contentType.length;
  if (result) for (const k in result.headers) n += k.length + String(result.headers[k]).length;
  if (error) n += JSON.stringify(error).length;
  return n;
}

/** JSON for Redis: buffers as base64 (the message, a target's body, the rendered answer). */
export function serialize(e: Entry): string {
  const r = e.result;
  return JSON.stringify({
    ...e,
    result: r && {
      httpStatus: r.httpStatus,
      headers: r.headers,
      message: r.message?.toString("base64"),
      body: r.body && {
        contentType: r.body.contentType,
        bytes: Buffer.isBuffer(r.body.bytes) ? r.body.bytes.toString("base64") : r.body.bytes,
        b64: Buffer.isBuffer(r.body.bytes),
      },
      rendered: r.rendered && {
        contentType: r.rendered.contentType,
        bytes: r.rendered.bytes.toString("base64"),
        etag: r.rendered.etag,
      },
    },
  });
}

/** The inverse of serialize; undefined for anything it cannot read (a foreign or older value). */
export function deserialize(s: string): Entry | undefined {
  try {
    const o = JSON.parse(s) as Entry & {
      result?: {
        httpStatus: number;
        headers: Record<string, string>;
        message?: string;
        body?: { contentType: string; bytes: string; b64: boolean };
        rendered?: { contentType: string; bytes: string; etag: string };
      };
    };
    if (typeof o.key !== "string" || typeof o.freshUntil !== "number") return undefined;
    const r = o.result;
    return {
      ...o,
      result: r && {
        httpStatus: r.httpStatus,
        headers: r.headers,
        ...(r.message !== undefined ? { message: Buffer.from(r.message, "base64") } : {}),
        ...(r.body
          ? {
              body: {
                contentType: r.body.contentType,
                bytes: r.body.b64 ? Buffer.from(r.body.bytes, "base64") : r.body.bytes,
              },
            }
          : {}),
        ...(r.rendered
          ? {
              rendered: {
                contentType: r.rendered.contentType,
                bytes: Buffer.from(r.rendered.bytes, "base64"),
                etag: r.rendered.etag,
              },
            }
          : {}),
      },
    } as Entry;
  } catch {
    return undefined;
  }
}

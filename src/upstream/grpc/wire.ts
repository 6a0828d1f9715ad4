import { Code } from "../../errors/code.js";
import type { Metadata } from "../call-metadata.js";
import { H2Error } from "./h2/frame.js";
import type { StreamError } from "./h2/session.js";

/** The rules of "gRPC over HTTP/2" a unary call needs: message framing, header values, status mapping
 * (grpc-timeout is in deadline.ts, beside its parser). */

/** The user-agent every call sends. */
export const USER_AGENT = "protogate";

/** Bytes per field RFC 9113 6.5.2 adds to names and values in SETTINGS_MAX_HEADER_LIST_SIZE. */
const FIELD_OVERHEAD = 32;
/** :method POST, :scheme, content-type application/grpc, te trailers, user-agent: the same for all. */
const FIXED_FIELDS_SIZE =
  7 + 4 + (7 + 4) + (12 + 16) + (2 + 8) + (10 + USER_AGENT.length) + 5 * FIELD_OVERHEAD;

/**
 * The size of a call's request header list as the server counts it against its
 * SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 6.5.2): the fields encodeRequestHeaders sends, `-bin`
 * values as the unpadded base64 that goes on the wire.
 */
export function requestHeaderListSize(
  tls: boolean,
  authority: string,
  path: string,
  timeout: string | undefined,
  metadata: Metadata,
): number {
  let size =
    FIXED_FIELDS_SIZE + (tls ? 1 : 0) + (5 + path.length) + (10 + authority.length) + 2 * FIELD_OVERHEAD;
  if (timeout) size += 12 + timeout.length + FIELD_OVERHEAD;
  for (const [key, values] of metadata.entries()) {
    for (const v of values) {
      const length = typeof v === "string" ? v.length : Math.ceil((v.length * 4) / 3);
      size += key.length + length + FIELD_OVERHEAD;
    }
  }
  return size;
}

/** gRPC's message prefix: a compressed flag and a 4-byte big-endian length. */
export const MESSAGE_PREFIX = 5;

/** Fills in the prefix of a message encoded after MESSAGE_PREFIX free bytes. */
export function fillPrefix(framed: Buffer): Buffer {
  framed[0] = 0; // not compressed
  framed.writeUInt32BE(framed.length - MESSAGE_PREFIX, 1);
  return framed;
}

export function addMetadata(md: Metadata, name: string, value: string): void {
  if (name.endsWith("-bin")) md.add(name, Buffer.from(value, "base64"));
  else md.add(name, value);
}

/** grpc-message is percent-encoded UTF-8; a malformed one is shown as it came. */
export function decodeMessage(raw: string | Buffer | undefined): string {
  if (typeof raw !== "string" || raw === "") return "";
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Length-prefixed messages of the stream's DATA, or an error text. */
export function splitMessages(chunks: Buffer[], total: number): Buffer[] | string {
  const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  const out: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    if (data.length - at < MESSAGE_PREFIX) return "truncated gRPC message frame";
    if (data[at] !== 0) return "compressed answer, but no compression was offered (grpc-accept-encoding)";
    const len = data.readUInt32BE(at + 1);
    const start = at + MESSAGE_PREFIX;
    if (data.length - start < len) return "truncated gRPC message";
    out.push(data.subarray(start, start + len));
    at = start + len;
  }
  return out;
}

/** HTTP status -> gRPC code when the answer has no grpc-status (gRPC's http-grpc-status-mapping). */
export function codeForHttpStatus(status: number): number {
  switch (status) {
    case 400:
      return Code.INTERNAL;
    case 401:
      return Code.UNAUTHENTICATED;
    case 403:
      return Code.PERMISSION_DENIED;
    case 404:
      return Code.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return Code.UNAVAILABLE;
    default:
      return Code.UNKNOWN;
  }
}

/**
 * RST_STREAM / connection loss -> gRPC code (gRPC over HTTP/2, "Errors").
 *
 * Metadata larger than the backend's SETTINGS_MAX_HEADER_LIST_SIZE is RESOURCE_EXHAUSTED, as gRPC's
 * own clients (grpc-core) report it: a size limit was hit by what the caller sent, which the caller
 * can change; INTERNAL would say the gateway or the backend is broken, and neither is.
 */
export function codeForReset(error: StreamError): number {
  if (error.kind === "too-large") return Code.RESOURCE_EXHAUSTED;
  if (error.kind !== "reset") return Code.UNAVAILABLE; // connection lost, or refused too often
  switch (error.h2Code) {
    case H2Error.REFUSED_STREAM:
      return Code.UNAVAILABLE;
    case H2Error.CANCEL:
      return Code.CANCELLED;
    case H2Error.ENHANCE_YOUR_CALM:
      return Code.RESOURCE_EXHAUSTED;
    case H2Error.INADEQUATE_SECURITY:
      return Code.PERMISSION_DENIED;
    default:
      return Code.INTERNAL;
  }
}

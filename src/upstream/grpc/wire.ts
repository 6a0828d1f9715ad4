import { Code } from "../../errors/code.js";
import { Metadata } from "../call-metadata.js";
import type { BackendAddress } from "./address.js";
import { H2Error } from "./h2/frame.js";
import type { HeaderField } from "./h2/hpack.js";
import type { HpackEncoder } from "./h2/hpack-encoder.js";
import type { StreamError } from "./h2/session.js";

/** The rules of "gRPC over HTTP/2" unary and streaming calls share: request headers, message framing,
 * response headers, status mapping (grpc-timeout is in deadline.ts, beside its parser). */

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

/** Metadata whose value is usually the same on every call through one gateway (worth a table entry). */
const REPEATING_METADATA = new Set(["x-forwarded-host", "x-forwarded-for"]);

/**
 * Request headers (gRPC over HTTP/2 "Request-Headers"); what repeats call after call is indexed, and
 * the fields every call to this method with this deadline share are one replayed run.
 */
export function encodeRequestHeaders(
  encoder: HpackEncoder,
  target: BackendAddress,
  path: string,
  timeout: string | undefined,
  metadata: Metadata,
): void {
  if (!encoder.replay(path, timeout)) {
    encoder
      .staticField(3) // :method POST
      .staticField(target.tls ? 7 : 6) // :scheme https | http
      .repeated(":path", path)
      .repeated(":authority", target.authority)
      .repeated("content-type", "application/grpc")
      .repeated("te", "trailers")
      .repeated("user-agent", USER_AGENT);
    if (timeout) encoder.repeated("grpc-timeout", timeout);
    encoder.endRun();
  }
  for (const [key, values] of metadata.entries()) {
    const repeats = REPEATING_METADATA.has(key);
    for (const v of values) {
      const text = typeof v === "string" ? v : v.toString("base64").replace(/=+$/, "");
      if (repeats) encoder.repeated(key, text);
      else encoder.literal(key, text, key === "x-request-id");
    }
  }
}

/** What the response's header blocks said about the answer, besides metadata. */
export interface ResponseHead {
  httpStatus: number;
  contentType: string;
  /** grpc-status and grpc-message from the trailers, kept out of the trailer metadata. */
  statusText: string | undefined;
  statusMessage: string | undefined;
}

/**
 * Reads one response header block into `head` and returns its metadata. `trailers`: the block ends
 * the answer (Trailers, or Trailers-Only: one HEADERS frame that ends the stream; no header metadata).
 */
export function parseResponseHeaders(head: ResponseHead, fields: HeaderField[], trailers: boolean): Metadata {
  const first = head.httpStatus === 0;
  const md = new Metadata();
  for (const [name, value] of fields) {
    if (first && name === ":status") head.httpStatus = Number(value);
    else if (first && name === "content-type") head.contentType = value;
    else if (trailers && name === "grpc-status") head.statusText ??= value;
    else if (trailers && name === "grpc-message") head.statusMessage ??= value;
    else if (name[0] !== ":") addMetadata(md, name, value);
  }
  return md;
}

const DIGITS = /^\d+$/;
/** The status of almost every answer, shared (callers copy it before changing anything). */
const OK_STATUS: { readonly code: number; readonly details: string } = Object.freeze({
  code: Code.OK,
  details: "",
});

/**
 * The status of an answer the server ended cleanly (gRPC over HTTP/2: HTTP status, content-type,
 * grpc-status). The result may be shared: read it, do not change it.
 */
export function responseStatus(head: ResponseHead): { readonly code: number; readonly details: string } {
  const statusText = head.statusText;
  if (head.httpStatus !== 200) {
    if (statusText === undefined)
      return {
        code: codeForHttpStatus(head.httpStatus),
        details: `backend answered HTTP ${head.httpStatus}`,
      };
  } else if (!head.contentType.startsWith("application/grpc")) {
    return {
      code: Code.UNKNOWN,
      details: `backend answered content-type "${head.contentType}", not application/grpc`,
    };
  }
  if (statusText === "0" && head.statusMessage === undefined) return OK_STATUS;
  if (statusText === undefined || !DIGITS.test(statusText))
    return { code: Code.UNKNOWN, details: "backend's answer ended without grpc-status" };
  return { code: Number(statusText), details: decodeMessage(head.statusMessage) };
}

/**
 * Splits a stream's DATA into length-prefixed messages as it arrives (streaming calls; a unary answer
 * is split whole by splitMessages). Messages are handed to `sink.push`; a complete message is one
 * subarray of a chunk when it fits in one, else one copy.
 */
export class MessageReader {
  private parts: Buffer[] = [];
  private have = 0;
  /** Bytes (prefix included) of the message being gathered, or -1 while its prefix is incomplete. */
  private need = -1;

  constructor(private readonly maxMessageBytes: number) {}

  /** Bytes of an incomplete message held (non-zero at the end of a stream: truncated). */
  get partial(): number {
    return this.have;
  }

  /** Reads `chunk`; returns the status to fail with when the stream breaks the framing rules or limit. */
  push(
    chunk: Buffer,
    sink: { push(message: Buffer): unknown },
  ): { code: number; details: string } | undefined {
    let data = chunk;
    if (this.have > 0) {
      // Gathered, not joined, until the message is complete: no copy per chunk of a large message.
      this.parts.push(chunk);
      this.have += chunk.length;
      if (this.need < 0 && this.have >= MESSAGE_PREFIX) {
        const joined = Buffer.concat(this.parts, this.have);
        this.parts = [joined];
        this.need = MESSAGE_PREFIX + joined.readUInt32BE(1);
        // A prefix the loop below refuses: refuse it now, not after gathering its length.
        if (joined[0] !== 0 || this.need - MESSAGE_PREFIX > this.maxMessageBytes) this.need = 0;
      }
      if (this.need < 0 || this.have < this.need) return undefined;
      data = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.have);
      this.parts = [];
      this.have = 0;
      this.need = -1;
    }
    let at = 0;
    while (data.length - at >= MESSAGE_PREFIX) {
      if (data[at] !== 0) {
        const details = "compressed message, but no compression was offered (grpc-accept-encoding)";
        return { code: Code.INTERNAL, details };
      }
      const len = data.readUInt32BE(at + 1);
      if (len > this.maxMessageBytes)
        return {
          code: Code.RESOURCE_EXHAUSTED,
          details: `a message is larger than ${this.maxMessageBytes} bytes`,
        };
      const start = at + MESSAGE_PREFIX;
      if (data.length - start < len) {
        this.need = MESSAGE_PREFIX + len;
        break;
      }
      sink.push(data.subarray(start, start + len));
      at = start + len;
    }
    if (at < data.length) {
      this.parts.push(data.subarray(at));
      this.have = data.length - at;
    }
    return undefined;
  }
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

/**
 * The one length-prefixed message of a unary answer's DATA (a view, not a copy), or an error text
 * (none, more than one, truncated, compressed). The same checks as splitMessages, without its array.
 */
export function singleMessage(chunks: Buffer[], total: number): Buffer | string {
  const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  if (data.length < MESSAGE_PREFIX)
    return data.length === 0
      ? "protocol violation: no response message from a unary method"
      : "truncated gRPC message frame";
  if (data[0] !== 0) return "compressed answer, but no compression was offered (grpc-accept-encoding)";
  const len = data.readUInt32BE(1);
  if (data.length - MESSAGE_PREFIX < len) return "truncated gRPC message";
  if (data.length - MESSAGE_PREFIX > len) {
    // what follows must itself be well framed for the error to name the real problem
    const rest = splitMessages([data.subarray(MESSAGE_PREFIX + len)], data.length - MESSAGE_PREFIX - len);
    return typeof rest === "string"
      ? rest
      : "protocol violation: more than one response message from a unary method";
  }
  return data.subarray(MESSAGE_PREFIX, data.length);
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

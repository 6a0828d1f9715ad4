import { Code } from "../../errors/code.js";
import { Metadata } from "./call-metadata.js";
import type { Channel } from "./channel.js";
import { H2Error } from "./h2/frame.js";
import type { HeaderField } from "./h2/hpack.js";
import type { HpackEncoder } from "./h2/hpack-encoder.js";
import type { H2Session, StreamError, StreamHandler } from "./h2/session.js";

/** The result of a unary call: the final status with trailers, the answer's bytes, the header metadata. */
export interface UnaryResult {
  readonly status: { readonly code: number; readonly details: string; readonly metadata: Metadata };
  readonly message: Buffer | undefined;
  readonly headers: Metadata | undefined;
}

/** Answers larger than this fail with RESOURCE_EXHAUSTED (the gateway's body limit guards the other way). */
export const MAX_RECEIVE_MESSAGE_BYTES = 64 * 1024 * 1024;
/** How often a call that the server never processed (GOAWAY, REFUSED_STREAM) is sent again. */
const TRANSPARENT_RETRIES = 3;
const USER_AGENT = "protogate";

/**
 * A unary gRPC call with raw bytes (the gateway's codec has encoded the request already), following
 * "gRPC over HTTP2": request headers with grpc-timeout and metadata, one length-prefixed message,
 * response headers, one message, trailers (or trailers only). `onResult` gets the final status, OK or
 * not, exactly once and never synchronously. The returned function cancels the call (the HTTP client
 * went away).
 */
export function callUnary(
  channel: Channel,
  path: string,
  request: Uint8Array,
  metadata: Metadata,
  timeoutMs: number,
  onResult: (result: UnaryResult) => void,
): () => void {
  const call = new UnaryCall(channel, path, request, metadata, timeoutMs, onResult);
  return () => call.finishWith(Code.CANCELLED, "cancelled by the client");
}

class UnaryCall implements StreamHandler {
  private done = false;
  private starting = true;
  private timer: NodeJS.Timeout | undefined;
  private withdraw: (() => void) | undefined;
  private cancelStream: ((code?: number) => void) | undefined;
  private retries = 0;
  private readonly body: Buffer;
  private readonly timeout: string | undefined;

  // the answer so far
  private httpStatus = 0;
  private contentType = "";
  private headers: Metadata | undefined;
  private trailers: Metadata | undefined;
  private chunks: Buffer[] = [];
  private received = 0;

  constructor(
    private readonly channel: Channel,
    private readonly path: string,
    request: Uint8Array,
    private readonly metadata: Metadata,
    timeoutMs: number,
    private readonly onResult: (result: UnaryResult) => void,
  ) {
    this.timeout = timeoutMs > 0 ? grpcTimeout(timeoutMs) : undefined;
    this.body = lengthPrefixed(request);
    if (timeoutMs > 0) {
      this.timer = setTimeout(() => this.finishWith(Code.DEADLINE_EXCEEDED, "deadline exceeded"), timeoutMs);
    }
    this.start();
    this.starting = false;
  }

  private start(): void {
    const session = this.channel.pick();
    if (session) {
      this.send(session);
      return;
    }
    this.withdraw = this.channel.whenReady((ready, error) => {
      this.withdraw = undefined;
      if (this.done) return;
      if (ready) this.send(ready);
      else this.finishWith(Code.UNAVAILABLE, error ?? "no connection to the backend");
    });
  }

  private send(session: H2Session): void {
    this.cancelStream = session.request(this.body, this);
  }

  /** Ends the call with a status of our own (deadline, cancel, transport failure). */
  finishWith(code: number, details: string): void {
    if (this.done) return;
    const cancelStream = this.cancelStream;
    this.withdraw?.();
    this.resolve({
      status: { code, details, metadata: this.trailers ?? new Metadata() },
      message: undefined,
      headers: this.headers,
    });
    cancelStream?.(H2Error.CANCEL); // after resolving: the stream's own close must not decide the status
  }

  private resolve(result: UnaryResult): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    if (this.starting) process.nextTick(this.onResult, result);
    else this.onResult(result);
  }

  // ---- StreamHandler ----

  /** Request headers (gRPC over HTTP/2 "Request-Headers"); what repeats call after call is indexed. */
  encodeHeaders(encoder: HpackEncoder): Buffer {
    const target = this.channel.target;
    encoder
      .begin()
      .staticField(3) // :method POST
      .staticField(target.tls ? 7 : 6) // :scheme https | http
      .repeated(":path", this.path)
      .repeated(":authority", target.authority)
      .repeated("content-type", "application/grpc")
      .repeated("te", "trailers")
      .repeated("user-agent", USER_AGENT);
    if (this.timeout) encoder.repeated("grpc-timeout", this.timeout);
    for (const [key, values] of this.metadata.entries()) {
      const repeats = REPEATING_METADATA.has(key);
      for (const v of values) {
        const text = typeof v === "string" ? v : v.toString("base64").replace(/=+$/, "");
        if (repeats) encoder.repeated(key, text);
        else encoder.literal(key, text);
      }
    }
    return encoder.end();
  }

  onHeaders(fields: HeaderField[], endStream: boolean): void {
    if (this.httpStatus === 0) {
      const md = new Metadata();
      for (const [name, value] of fields) {
        if (name === ":status") this.httpStatus = Number(value);
        else if (name === "content-type") this.contentType = value;
        else if (name[0] !== ":") addMetadata(md, name, value);
      }
      // Trailers-Only: one HEADERS frame that ends the stream carries the status; no header metadata.
      if (endStream) this.trailers = md;
      else this.headers = md;
    } else {
      const md = new Metadata();
      for (const [name, value] of fields) if (name[0] !== ":") addMetadata(md, name, value);
      this.trailers = md;
    }
  }

  onData(chunk: Buffer, _endStream: boolean): void {
    this.received += chunk.length;
    if (this.received > MAX_RECEIVE_MESSAGE_BYTES + 5) {
      this.finishWith(
        Code.RESOURCE_EXHAUSTED,
        `the answer is larger than ${MAX_RECEIVE_MESSAGE_BYTES} bytes`,
      );
      return;
    }
    this.chunks.push(chunk);
  }

  onClose(error: StreamError | undefined): void {
    this.cancelStream = undefined;
    if (this.done) return;
    if (error) {
      if (error.kind === "refused" && this.retries < TRANSPARENT_RETRIES) {
        this.retries++;
        this.reset();
        this.start();
        return;
      }
      if (!this.trailers) {
        this.finishWith(codeForReset(error), error.message);
        return;
      }
    }
    this.resolve(this.outcome());
  }

  private reset(): void {
    this.httpStatus = 0;
    this.contentType = "";
    this.headers = undefined;
    this.trailers = undefined;
    this.chunks = [];
    this.received = 0;
  }

  /** The call's result once the server closed the stream cleanly. */
  private outcome(): UnaryResult {
    const trailers = this.trailers ?? new Metadata();
    const headers = this.headers;
    const fail = (code: number, details: string): UnaryResult => ({
      status: { code, details, metadata: trailers },
      message: undefined,
      headers,
    });
    if (this.httpStatus !== 200) {
      const status = trailers.get("grpc-status")[0];
      if (status === undefined)
        return fail(codeForHttpStatus(this.httpStatus), `backend answered HTTP ${this.httpStatus}`);
    } else if (!this.contentType.startsWith("application/grpc")) {
      return fail(Code.UNKNOWN, `backend answered content-type "${this.contentType}", not application/grpc`);
    }
    const statusText = trailers.get("grpc-status")[0];
    if (typeof statusText !== "string" || !/^\d+$/.test(statusText))
      return fail(Code.UNKNOWN, "backend's answer ended without grpc-status");
    const code = Number(statusText);
    const details = decodeMessage(trailers.get("grpc-message")[0]);
    trailers.remove("grpc-status");
    trailers.remove("grpc-message");
    if (code !== Code.OK) return fail(code, details);
    const messages = splitMessages(this.chunks, this.received);
    if (typeof messages === "string") return fail(Code.INTERNAL, messages);
    if (messages.length !== 1) {
      return fail(
        Code.INTERNAL,
        messages.length === 0
          ? "protocol violation: no response message from a unary method"
          : "protocol violation: more than one response message from a unary method",
      );
    }
    return { status: { code, details, metadata: trailers }, message: messages[0], headers };
  }
}

// ---- request encoding ----

/** Metadata whose value is usually the same on every call through one gateway (worth a table entry). */
const REPEATING_METADATA = new Set(["x-forwarded-host", "x-forwarded-for"]);

/** grpc-timeout: at most 8 digits, in the finest unit that fits. */
export function grpcTimeout(ms: number): string {
  if (ms < 1) return `${Math.max(1, Math.round(ms * 1000))}u`;
  const whole = Math.ceil(ms);
  if (whole <= 99_999_999) return `${whole}m`;
  const s = Math.ceil(ms / 1000);
  return s <= 99_999_999 ? `${s}S` : `${Math.min(99_999_999, Math.ceil(s / 3600))}H`;
}

function lengthPrefixed(message: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(5 + message.length);
  buf[0] = 0; // not compressed
  buf.writeUInt32BE(message.length, 1);
  buf.set(message, 5);
  return buf;
}

// ---- response decoding ----

function addMetadata(md: Metadata, name: string, value: string): void {
  if (name.endsWith("-bin")) md.add(name, Buffer.from(value, "base64"));
  else md.add(name, value);
}

/** grpc-message is percent-encoded UTF-8; a malformed one is shown as it came. */
function decodeMessage(raw: string | Buffer | undefined): string {
  if (typeof raw !== "string" || raw === "") return "";
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Length-prefixed messages of the stream's DATA, or an error text. */
function splitMessages(chunks: Buffer[], total: number): Buffer[] | string {
  const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  const out: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    if (data.length - at < 5) return "truncated gRPC message frame";
    if (data[at] !== 0) return "compressed answer, but no compression was offered (grpc-accept-encoding)";
    const len = data.readUInt32BE(at + 1);
    if (data.length - at - 5 < len) return "truncated gRPC message";
    out.push(data.subarray(at + 5, at + 5 + len));
    at += 5 + len;
  }
  return out;
}

/** HTTP status -> gRPC code when the answer has no grpc-status (gRPC's http-grpc-status-mapping). */
function codeForHttpStatus(status: number): number {
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

/** RST_STREAM / connection loss -> gRPC code (gRPC over HTTP/2, "Errors"). */
function codeForReset(error: StreamError): number {
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

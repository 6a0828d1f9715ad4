import { Code } from "../../errors/code.js";
import { Metadata } from "../call-metadata.js";
import { type Channel, type ChannelCall, NEUTRAL_OUTCOME, startCall } from "./channel.js";
import { grpcTimeoutText } from "./deadline.js";
import { type DeadlineList, type Expiring, startDeadline, stopDeadline } from "./deadline-lists.js";
import { H2Error } from "./h2/frame.js";
import type { HeaderField } from "./h2/hpack.js";
import type { HpackEncoder } from "./h2/hpack-encoder.js";
import type { H2Session, StreamError, StreamHandler } from "./h2/session.js";
import {
  codeForReset,
  encodeRequestHeaders,
  fillPrefix,
  MESSAGE_PREFIX,
  parseResponseHeaders,
  type ResponseHead,
  requestHeaderListSize,
  responseStatus,
  singleMessage,
} from "./wire.js";

/** The result of a unary call: the final status with trailers, the answer's bytes, the header metadata. */
export interface UnaryResult {
  /** `local`: the status is the gateway's own (transport failure, deadline, protocol violation), not the server's. */
  readonly status: {
    readonly code: number;
    readonly details: string;
    readonly metadata: Metadata;
    readonly local?: boolean;
  };
  readonly message: Buffer | undefined;
  readonly headers: Metadata | undefined;
}

/** Answers larger than this fail with RESOURCE_EXHAUSTED (the gateway's body limit guards the other way). */
const MAX_RECEIVE_MESSAGE_BYTES = 64 * 1024 * 1024;
/** How often a call that the server never processed (GOAWAY, REFUSED_STREAM) is sent again. */
const TRANSPARENT_RETRIES = 3;
/**
 * A unary gRPC call with raw bytes (the gateway's codec has encoded the request already), following
 * "gRPC over HTTP2": request headers with grpc-timeout and metadata, one length-prefixed message,
 * response headers, one message, trailers (or trailers only). `onResult` gets the final status, OK or
 * not, exactly once and never synchronously. The returned function cancels the call (the HTTP client
 * went away).
 *
 * `request` is the encoded message after MESSAGE_PREFIX free bytes (`encodeMessage(info, msg,
 * MESSAGE_PREFIX)`): the call writes the length prefix there.
 */
export function callUnary(
  channel: Channel,
  path: string,
  request: Buffer,
  metadata: Metadata,
  timeoutMs: number,
  onResult: (result: UnaryResult) => void,
): () => void {
  const call = new UnaryCall(channel, path, request, metadata, timeoutMs, onResult);
  return () => call.finishWith(Code.CANCELLED, "cancelled by the client");
}

class UnaryCall implements StreamHandler, Expiring, ChannelCall {
  private done = false;
  private starting = true;
  // Expiring: the deadline lists link calls through these (see deadline-lists.ts)
  deadlineAt = 0;
  prevExpiring: Expiring | undefined = undefined;
  nextExpiring: Expiring | undefined = undefined;
  expiryList: DeadlineList | undefined = undefined;
  expiryTimer: NodeJS.Timeout | undefined = undefined;
  private withdraw: (() => void) | undefined;
  private cancelStream: ((code?: number) => void) | undefined;
  /** Where the call was sent, told the outcome for balancing (Channel.callEnded). */
  private session: H2Session | undefined;
  private retries = 0;
  private readonly body: Buffer;
  private readonly timeout: string | undefined;

  // the answer so far
  private readonly head: ResponseHead = {
    httpStatus: 0,
    contentType: "",
    statusText: undefined,
    statusMessage: undefined,
  };
  private headers: Metadata | undefined;
  private trailers: Metadata | undefined;
  private chunks: Buffer[] = [];
  private received = 0;

  constructor(
    private readonly channel: Channel,
    private readonly path: string,
    request: Buffer,
    private readonly metadata: Metadata,
    timeoutMs: number,
    private readonly onResult: (result: UnaryResult) => void,
  ) {
    this.timeout = timeoutMs > 0 ? grpcTimeoutText(timeoutMs) : undefined;
    this.body = fillPrefix(request);
    if (timeoutMs > 0) {
      startDeadline(this, timeoutMs);
    }
    this.start();
    this.starting = false;
  }

  private start(): void {
    this.withdraw = startCall(this.channel, this);
  }

  // ---- ChannelCall ----

  isDone(): boolean {
    return this.done;
  }

  noConnection(reason: string): void {
    this.finishWith(Code.UNAVAILABLE, reason);
  }

  expire(): void {
    this.finishWith(Code.DEADLINE_EXCEEDED, "deadline exceeded");
  }

  send(session: H2Session): void {
    this.session = session;
    this.channel.callStarted(session);
    this.cancelStream = session.request(this.body, this);
  }

  /** Ends the call with a status of our own (deadline, cancel, transport failure). */
  finishWith(code: number, details: string): void {
    if (this.done) return;
    const cancelStream = this.cancelStream;
    this.withdraw?.();
    this.resolve({
      status: { code, details, metadata: this.trailers ?? new Metadata(), local: true },
      message: undefined,
      headers: this.headers,
    });
    cancelStream?.(H2Error.CANCEL); // after resolving: the stream's own close must not decide the status
  }

  private resolve(result: UnaryResult): void {
    if (this.done) return;
    this.done = true;
    stopDeadline(this);
    this.ended(result.status.code);
    if (this.starting) process.nextTick(this.onResult, result);
    else this.onResult(result);
  }

  // ---- StreamHandler ----

  encodeHeaders(encoder: HpackEncoder): void {
    encodeRequestHeaders(encoder, this.channel.target, this.path, this.timeout, this.metadata);
  }

  headerListSize(): number {
    const { tls, authority } = this.channel.target;
    return requestHeaderListSize(tls, authority, this.path, this.timeout, this.metadata);
  }

  onHeaders(fields: HeaderField[], endStream: boolean): void {
    // Trailers-Only: one HEADERS frame that ends the stream carries the status; no header metadata.
    const trailers = this.head.httpStatus !== 0 || endStream;
    const md = parseResponseHeaders(this.head, fields, trailers);
    if (trailers) this.trailers = md;
    else this.headers = md;
  }

  onData(chunk: Buffer, _endStream: boolean): void {
    this.received += chunk.length;
    if (this.received > MAX_RECEIVE_MESSAGE_BYTES + MESSAGE_PREFIX) {
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
        this.ended(NEUTRAL_OUTCOME);
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

  private ended(code: number): void {
    const session = this.session;
    if (session === undefined) return;
    this.session = undefined;
    this.channel.callEnded(session, code);
  }

  private reset(): void {
    const head = this.head;
    head.httpStatus = 0;
    head.contentType = "";
    head.statusText = undefined;
    head.statusMessage = undefined;
    this.headers = undefined;
    this.trailers = undefined;
    this.chunks = [];
    this.received = 0;
  }

  /** The call's result once the server closed the stream cleanly. */
  private outcome(): UnaryResult {
    const trailers = this.trailers ?? new Metadata();
    const head = this.head;
    const { code, details } = responseStatus(head);
    if (code !== Code.OK) {
      // the server's own grpc-status, or one the gateway derived (HTTP status, wrong content type)
      const fromServer =
        head.httpStatus === 200 &&
        head.contentType.startsWith("application/grpc") &&
        head.statusText !== undefined;
      return this.failed(code, details, trailers, !fromServer);
    }
    const message = singleMessage(this.chunks, this.received);
    if (typeof message === "string") return this.failed(Code.INTERNAL, message, trailers, true);
    return { status: { code, details, metadata: trailers }, message, headers: this.headers };
  }

  private failed(code: number, details: string, trailers: Metadata, local: boolean): UnaryResult {
    return {
      status: { code, details, metadata: trailers, local },
      message: undefined,
      headers: this.headers,
    };
  }
}

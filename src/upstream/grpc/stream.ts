import { Code } from "../../errors/code.js";
import { Metadata } from "../call-metadata.js";
import { type Channel, type ChannelCall, startCall } from "./channel.js";
import { grpcTimeoutText } from "./deadline.js";
import { type DeadlineList, type Expiring, startDeadline, stopDeadline } from "./deadline-lists.js";
import { H2Error } from "./h2/frame.js";
import type { HeaderField } from "./h2/hpack.js";
import type { HpackEncoder } from "./h2/hpack-encoder.js";
import type { H2Session, StreamError, StreamHandler, StreamRef } from "./h2/session.js";
import {
  codeForReset,
  encodeRequestHeaders,
  fillPrefix,
  MessageReader,
  parseResponseHeaders,
  type ResponseHead,
  requestHeaderListSize,
  responseStatus,
} from "./wire.js";

/**
 * Streaming gRPC calls (server-, client- and bidi-streaming) over the gateway's own HTTP/2 client,
 * for a REST layer (SSE, WebSocket, NDJSON) that knows nothing of HTTP/2:
 *
 *   const call = openStream(channel, "/pkg.Service/Method", metadata, 30_000, {
 *     onHeaders(md) {},          // the server's header metadata (not for a trailers-only answer)
 *     onMessage(bytes) {},       // one response message, without its 5-byte prefix
 *     onEnd(status) {},          // once, last: {code, details, metadata (trailers)}
 *     onDrain() {},              // what write() held back has gone: write again
 *   });
 *   call.write(encodeMessage(info, msg, MESSAGE_PREFIX)); // false: wait for onDrain
 *   call.end();                  // no more request messages (half-close)
 *   call.pause(); call.resume(); // stop / restart reading: backpressure to the server
 *   call.cancel();               // RST_STREAM CANCEL; onEnd(CANCELLED) comes at once
 *
 * Flow control both ways: while paused, no WINDOW_UPDATE goes out for the stream, so the server stops
 * once our stream window (session.ts STREAM_WINDOW, 4 MiB) is full; messages already received wait
 * here and come after resume(). Writes respect the server's windows; what does not fit waits in the
 * session and write() returns false until onDrain.
 *
 * Connections as for unary calls: channel.pick() / whenReady(), the call's deadline from the deadline
 * lists (DEADLINE_EXCEEDED cancels the stream). A stream the server refused (GOAWAY above its id,
 * REFUSED_STREAM) is sent again transparently while that is safe: no response headers yet, and at
 * most RETRY_BUFFER bytes written (they are kept to be sent again); otherwise it fails UNAVAILABLE.
 *
 * Callbacks never come synchronously from openStream(); onEnd comes from cancel() itself.
 */
export function openStream(
  channel: Channel,
  path: string,
  metadata: Metadata,
  timeoutMs: number,
  handler: StreamCallHandler,
): StreamCall {
  return new GrpcStream(channel, path, metadata, timeoutMs, handler);
}

/** The final status of a streaming call; `metadata` is the trailers (empty when there were none). */
export interface StreamStatus {
  readonly code: number;
  readonly details: string;
  readonly metadata: Metadata;
}

export interface StreamCallHandler {
  onHeaders(metadata: Metadata): void;
  onMessage(message: Buffer): void;
  onEnd(status: StreamStatus): void;
  onDrain?(): void;
}

export interface StreamCall {
  /**
   * Sends one request message, encoded after MESSAGE_PREFIX free bytes (the call writes the prefix
   * there). Returns false when it could not all go out yet: wait for onDrain before the next. Writes
   * after end(), cancel() or the end of the call are dropped.
   */
  write(encodedWithPrefixRoom: Buffer): boolean;
  /** Half-closes: no more request messages. */
  end(): void;
  /** Ends the call with CANCELLED (RST_STREAM CANCEL to the server). */
  cancel(): void;
  /** Stops delivering messages and stops granting the server flow-control window. */
  pause(): void;
  resume(): void;
}

/** Response messages larger than this fail the call with RESOURCE_EXHAUSTED (as unary answers). */
const MAX_RECEIVE_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Request bytes kept for a transparent retry; a stream that wrote more is never sent again. */
const RETRY_BUFFER = 64 * 1024;
/** How often a stream the server never processed is sent again. */
const TRANSPARENT_RETRIES = 3;
/** Request bytes gathered before a connection is ready above which write() asks the caller to wait. */
const BACKLOG_LIMIT = 64 * 1024;

class GrpcStream implements StreamHandler, Expiring, StreamCall, ChannelCall {
  // Expiring: the deadline lists link calls through these (see deadline-lists.ts)
  deadlineAt = 0;
  prevExpiring: Expiring | undefined = undefined;
  nextExpiring: Expiring | undefined = undefined;
  expiryList: DeadlineList | undefined = undefined;
  expiryTimer: NodeJS.Timeout | undefined = undefined;

  private readonly timeout: string | undefined;
  private done = false;
  private starting = true;
  private ended = false;
  private paused = false;
  private retries = 0;
  private withdraw: (() => void) | undefined;
  private session: H2Session | undefined;
  private ref: StreamRef | undefined;

  /** Messages not yet given to a session (no connection yet, or a retry). */
  private backlog: Buffer[] = [];
  private backlogBytes = 0;
  /** Messages given to the session, kept for a transparent retry; undefined once that is unsafe. */
  private held: Buffer[] | undefined = [];
  private heldBytes = 0;
  private needDrain = false;

  // the answer
  private readonly head: ResponseHead = {
    httpStatus: 0,
    contentType: "",
    statusText: undefined,
    statusMessage: undefined,
  };
  private trailers: Metadata | undefined;
  private readonly reader = new MessageReader(MAX_RECEIVE_MESSAGE_BYTES);
  /** Messages received while paused, delivered on resume; then the end, if it came meanwhile. */
  private queue: Buffer[] = [];
  private queueAt = 0;
  private pendingEnd: StreamStatus | undefined;

  constructor(
    private readonly channel: Channel,
    private readonly path: string,
    private readonly metadata: Metadata,
    timeoutMs: number,
    private readonly handler: StreamCallHandler,
  ) {
    this.timeout = timeoutMs > 0 ? grpcTimeoutText(timeoutMs) : undefined;
    if (timeoutMs > 0) startDeadline(this, timeoutMs);
    this.start();
    this.starting = false;
  }

  // ---- StreamCall ----

  write(encodedWithPrefixRoom: Buffer): boolean {
    if (this.done || this.ended) return true;
    const message = fillPrefix(encodedWithPrefixRoom);
    if (!this.ref) {
      this.backlog.push(message);
      this.backlogBytes += message.length;
      if (this.backlogBytes <= BACKLOG_LIMIT) return true;
      this.needDrain = true;
      return false;
    }
    this.hold(message);
    const sent = this.session!.write(this.ref, message, false);
    if (!sent) this.needDrain = true;
    return sent;
  }

  end(): void {
    if (this.done || this.ended) return;
    this.ended = true;
    if (this.ref) this.session!.write(this.ref, EMPTY, true);
  }

  cancel(): void {
    this.finishWith(Code.CANCELLED, "cancelled by the client");
  }

  pause(): void {
    if (this.paused || this.done) return;
    this.paused = true;
    if (this.ref) this.session!.setPaused(this.ref, true);
  }

  resume(): void {
    if (!this.paused || this.done) return;
    this.paused = false;
    if (this.ref) this.session!.setPaused(this.ref, false);
    this.deliverQueued();
  }

  // ---- connection ----

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

  send(session: H2Session): void {
    this.session = session;
    const ref = session.openStream(this);
    if (this.done) return; // refused at once (too-large headers), already finished
    this.ref = ref;
    if (this.paused) session.setPaused(ref, true);
    const backlog = this.backlog;
    this.backlog = [];
    this.backlogBytes = 0;
    let sent = true;
    for (const message of backlog) {
      this.hold(message);
      sent = session.write(ref, message, false);
    }
    if (this.ended) session.write(ref, EMPTY, true);
    if (sent && this.needDrain) this.onWritable();
  }

  /** Keeps what goes to the session for a retry, while that is still allowed. */
  private hold(message: Buffer): void {
    if (!this.held) return;
    this.heldBytes += message.length;
    if (this.heldBytes > RETRY_BUFFER) this.held = undefined;
    else this.held.push(message);
  }

  expire(): void {
    this.finishWith(Code.DEADLINE_EXCEEDED, "deadline exceeded");
  }

  /** Ends the call with a status of our own (deadline, cancel, transport failure). */
  private finishWith(code: number, details: string): void {
    if (this.done) return;
    const ref = this.ref;
    const session = this.session;
    this.withdraw?.();
    this.queue = [];
    this.pendingEnd = undefined;
    this.finish({ code, details, metadata: this.trailers ?? new Metadata() });
    if (ref) session!.cancel(ref, H2Error.CANCEL); // after finishing: the stream's close decides nothing
  }

  private finish(status: StreamStatus): void {
    if (this.done) return;
    this.done = true;
    this.held = undefined;
    this.backlog = [];
    stopDeadline(this);
    if (this.starting) process.nextTick(() => this.handler.onEnd(status));
    else this.handler.onEnd(status);
  }

  // ---- StreamHandler (the session's side) ----

  encodeHeaders(encoder: HpackEncoder): void {
    encodeRequestHeaders(encoder, this.channel.target, this.path, this.timeout, this.metadata);
  }

  headerListSize(): number {
    const { tls, authority } = this.channel.target;
    return requestHeaderListSize(tls, authority, this.path, this.timeout, this.metadata);
  }

  onHeaders(fields: HeaderField[], endStream: boolean): void {
    if (this.done) return;
    // Trailers-Only: one HEADERS frame that ends the stream carries the status; no header metadata.
    const trailers = this.head.httpStatus !== 0 || endStream;
    const md = parseResponseHeaders(this.head, fields, trailers);
    this.held = undefined; // the server has the call: never sent again
    if (trailers) this.trailers = md;
    else this.handler.onHeaders(md);
  }

  onData(chunk: Buffer, _endStream: boolean): void {
    if (this.done) return;
    // Straight to the handler while it reads; to the queue while paused (or still draining it).
    const error = this.reader.push(
      chunk,
      this.paused || this.queueAt < this.queue.length ? this.queue : this,
    );
    if (error) this.finishWith(error.code, error.details);
  }

  /** MessageReader's sink while messages flow straight through. */
  push(message: Buffer): void {
    if (!this.done) this.handler.onMessage(message); // the handler may have cancelled within this chunk
  }

  onWritable(): void {
    if (!this.needDrain || this.done) return;
    this.needDrain = false;
    this.handler.onDrain?.();
  }

  onClose(error: StreamError | undefined): void {
    this.ref = undefined;
    if (this.done) return;
    if (error) {
      if (error.kind === "refused" && this.held && this.retries < TRANSPARENT_RETRIES) {
        this.retries++;
        this.backlog = this.held.concat(this.backlog);
        this.backlogBytes = this.heldBytes + this.backlogBytes;
        this.held = [];
        this.heldBytes = 0;
        this.start();
        return;
      }
      if (!this.trailers) {
        this.finishWith(codeForReset(error), error.message);
        return;
      }
    }
    const metadata = this.trailers ?? new Metadata();
    let status: StreamStatus = { ...responseStatus(this.head), metadata };
    if (status.code === Code.OK && this.reader.partial)
      status = { code: Code.INTERNAL, details: "truncated gRPC message", metadata };
    if (this.queueAt < this.queue.length)
      this.pendingEnd = status; // after the queued messages
    else this.finish(status);
  }

  private deliverQueued(): void {
    while (!this.paused && !this.done && this.queueAt < this.queue.length) {
      const message = this.queue[this.queueAt]!;
      this.queue[this.queueAt++] = EMPTY;
      this.handler.onMessage(message);
    }
    if (this.queueAt === this.queue.length) {
      this.queue = [];
      this.queueAt = 0;
      const end = this.pendingEnd;
      if (end && !this.paused) {
        this.pendingEnd = undefined;
        this.finish(end);
      }
    }
  }
}

const EMPTY = Buffer.alloc(0);

import type { Socket } from "node:net";
import {
  DEFAULT_MAX_FRAME,
  DEFAULT_WINDOW,
  Flag,
  FrameType,
  goawayFrame,
  H2Error,
  h2ErrorName,
  MAX_WINDOW,
  PREFACE,
  ProtocolError,
  rstStreamFrame,
  Setting,
  settingsFrame,
  windowUpdateFrame,
} from "./frame.js";
import { type HeaderField, HeaderListTooLarge, HpackDecoder, HpackError } from "./hpack.js";
import { HpackEncoder } from "./hpack-encoder.js";
import { Keepalive } from "./keepalive.js";
import { FrameReader, type FrameSink, unpad } from "./reader.js";
import { StreamTable } from "./stream-table.js";
import { FrameWriter } from "./writer.js";

/**
 * One HTTP/2 client connection, as lean as a gateway's unary calls allow: frames written for all the
 * streams of one event-loop turn go out in one socket write (writer.ts); frames read (reader.ts) are
 * dispatched straight to their stream. This file keeps the streams' lifecycle, flow control both ways,
 * SETTINGS, PING, GOAWAY, RST_STREAM and the peer's stream limit; keepalive.ts the idle pings. What to
 * send and how to read the answers is the caller's.
 */

/**
 * A stream's owner: it writes its request headers when the stream starts (with this connection's
 * encoder, whose table the server mirrors) and hears the answer. `onClose` comes once, last; `error`
 * is set unless the stream ended cleanly.
 */
export interface StreamHandler {
  /** Adds the request's header fields to a block the session has begun. */
  encodeHeaders(encoder: HpackEncoder): void;
  /**
   * The request's header list size as RFC 9113 6.5.2 counts it (name and value octets plus 32 per
   * field), asked only when the server declared a SETTINGS_MAX_HEADER_LIST_SIZE.
   */
  headerListSize(): number;
  onHeaders(fields: HeaderField[], endStream: boolean): void;
  onData(chunk: Buffer, endStream: boolean): void;
  onClose(error: StreamError | undefined): void;
  /** What a streaming call wrote (`write` returned false) has all been sent: it may write again. */
  onWritable?(): void;
}

/**
 * Why a stream did not end cleanly: the server reset it (`h2Code`), the connection was lost, the
 * server refused it, i.e. never processed it (GOAWAY above it, REFUSED_STREAM): safe to send again,
 * or it was never sent because its headers are larger than the server accepts ("too-large").
 */
export interface StreamError {
  readonly kind: "reset" | "lost" | "refused" | "too-large";
  readonly h2Code: number;
  readonly message: string;
}

export interface SessionOptions {
  /** Send a PING after this long without hearing from the server (0 = never). */
  readonly keepaliveMs: number;
  /** ...and give the connection up if its ACK does not come within this. */
  readonly keepaliveTimeoutMs: number;
  /** Decoded header list limit per block (SETTINGS_MAX_HEADER_LIST_SIZE). */
  readonly maxHeaderListSize: number;
}

export interface SessionEvents {
  /** The server's first SETTINGS arrived: streams may start. */
  onReady(session: H2Session): void;
  /** No new streams here any more (GOAWAY, id space used up, or closing). */
  onDraining(session: H2Session, reason: string, code: number, debug: string): void;
  /** The socket is gone; every stream has been closed with an error. */
  onClose(session: H2Session, reason: string): void;
}

/**
 * Our receive windows: generous, since unary answers are read whole anyway. A paused streaming reader
 * (setPaused) lets the server fill its stream window: up to STREAM_WINDOW bytes wait in memory per
 * paused stream, then the server stalls.
 */
const STREAM_WINDOW = 4 * 1024 * 1024;
const CONNECTION_WINDOW = 16 * 1024 * 1024;

class H2Stream {
  /** Bytes we may still send on this stream (peer's window). */
  sendWindow: number;
  /** Request bytes not yet sent because of flow control. */
  pending: Buffer | undefined;
  /** Bytes received since the last stream WINDOW_UPDATE. */
  unacked = 0;
  closed = false;
  /** Our side is complete: END_STREAM goes with the last of `pending` (or went: `endSent`). */
  localEnd = false;
  endSent = false;
  /** The reader paused: no stream WINDOW_UPDATE, so the server stops once our window is full. */
  paused = false;
  /** A write returned false: tell the handler when `pending` is sent (onWritable). */
  wantsDrain = false;

  constructor(
    readonly id: number,
    readonly handler: StreamHandler,
    initialWindow: number,
  ) {
    this.sendWindow = initialWindow;
  }
}

/** A stream asked for; `stream` once it has started (it may wait for a slot under the peer's limit). */
interface Queued {
  body: Buffer;
  readonly handler: StreamHandler;
  stream: H2Stream | undefined;
  cancelled: boolean;
  /** The request is complete once `body` is sent (unary; a streaming call after `end`). */
  end: boolean;
  paused: boolean;
  wantsDrain: boolean;
}

/** A streaming call's stream, for write / setPaused / cancel (see openStream). */
export type StreamRef = Queued;

export class H2Session implements FrameSink {
  private readonly streams = new StreamTable<H2Stream>();
  private readonly decoder = new HpackDecoder();
  private readonly encoder = new HpackEncoder();
  private nextId = 1;
  private ready = false;
  private draining = false;
  private closed = false;

  // peer settings
  private peerMaxStreams = Number.POSITIVE_INFINITY;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrame = DEFAULT_MAX_FRAME;
  /** SETTINGS_MAX_HEADER_LIST_SIZE: unlimited until the server says otherwise (RFC 9113 6.5.2). */
  private peerMaxHeaderList = Number.POSITIVE_INFINITY;
  private connSendWindow = DEFAULT_WINDOW;
  private connUnacked = 0;
  /** Some stream may have a request left that flow control held back (see unblock). */
  private someBlocked = false;

  // writing: frames of one event-loop turn are flushed together
  private readonly out: FrameWriter;
  private readonly waiting: Queued[] = [];

  private readonly reader = new FrameReader(this);
  private readonly keepalive: Keepalive;

  constructor(
    private readonly socket: Socket,
    private readonly options: SessionOptions,
    private readonly events: SessionEvents,
  ) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    // OpenSSL's messages end in a newline; a Status message should not.
    socket.on("error", (err) => this.destroy(`connection error: ${err.message.trimEnd()}`));
    socket.on("close", () => this.destroy("connection closed"));
    this.out = new FrameWriter(socket);
    this.out.raw(PREFACE);
    this.out.raw(
      settingsFrame([
        [Setting.ENABLE_PUSH, 0],
        [Setting.INITIAL_WINDOW_SIZE, STREAM_WINDOW],
        [Setting.MAX_HEADER_LIST_SIZE, options.maxHeaderListSize],
      ]),
    );
    this.out.raw(windowUpdateFrame(0, CONNECTION_WINDOW - DEFAULT_WINDOW));
    this.keepalive = new Keepalive(
      options.keepaliveMs,
      options.keepaliveTimeoutMs,
      () => this.out.frame(FrameType.PING, 0, 0, Buffer.alloc(8)),
      () => this.destroy("keepalive ping not answered"),
    );
  }

  get isReady(): boolean {
    return this.ready && !this.draining && !this.closed;
  }

  /**
   * Opens a stream: HEADERS (from the handler) then DATA with END_STREAM. Returns a cancel function.
   * Over the peer's stream limit, the request waits here for a slot.
   */
  request(body: Buffer, handler: StreamHandler): (code?: number) => void {
    const q: Queued = {
      body,
      handler,
      stream: undefined,
      cancelled: false,
      end: true,
      paused: false,
      wantsDrain: false,
    };
    this.enqueue(q);
    return (code = H2Error.CANCEL) => this.cancel(q, code);
  }

  /**
   * Opens a stream whose request is written piece by piece (streaming calls): HEADERS now (or when a
   * slot frees up), then what `write` gets, END_STREAM with `write(..., true)`.
   */
  openStream(handler: StreamHandler): StreamRef {
    const q: Queued = {
      body: EMPTY,
      handler,
      stream: undefined,
      cancelled: false,
      end: false,
      paused: false,
      wantsDrain: false,
    };
    this.enqueue(q);
    return q;
  }

  /**
   * Sends `data` on the stream as far as the server's windows allow; `end` completes our side.
   * Returns false when some of it has to wait for a WINDOW_UPDATE: the handler's onWritable says when
   * it has gone. Writes after `end` or on a closed stream are dropped.
   */
  write(q: StreamRef, data: Buffer, end: boolean): boolean {
    if (q.cancelled || q.end) return true;
    const stream = q.stream;
    if (!stream) {
      // waiting for a slot: gathered, sent by start(), which tells the handler once it has gone
      q.body = q.body.length === 0 ? data : Buffer.concat([q.body, data]);
      q.end = end;
      q.wantsDrain = q.body.length > 0;
      return !q.wantsDrain;
    }
    q.end = end;
    if (stream.closed) return true;
    stream.localEnd = end;
    if (stream.pending) stream.pending = Buffer.concat([stream.pending, data]);
    else if (data.length > 0) stream.pending = data;
    else {
      if (end && !stream.endSent) {
        this.out.frame(FrameType.DATA, Flag.END_STREAM, stream.id);
        stream.endSent = true;
      }
      return true;
    }
    this.sendPending(stream);
    if (!stream.pending) return true;
    stream.wantsDrain = true;
    return false;
  }

  /** Pauses or resumes reading: while paused no stream WINDOW_UPDATE goes out (the server's backpressure). */
  setPaused(q: StreamRef, paused: boolean): void {
    q.paused = paused;
    const stream = q.stream;
    if (!stream || stream.closed) return;
    stream.paused = paused;
    if (!paused && stream.unacked > 0) {
      this.out.raw(windowUpdateFrame(stream.id, stream.unacked));
      stream.unacked = 0;
    }
  }

  /** Resets the stream (RST_STREAM `code`), or forgets it if it has not started. */
  cancel(q: StreamRef, code: number = H2Error.CANCEL): void {
    if (q.cancelled) return;
    q.cancelled = true;
    if (q.stream) this.reset(q.stream, code);
    else {
      const i = this.waiting.indexOf(q);
      if (i >= 0) this.waiting.splice(i, 1);
    }
  }

  private enqueue(q: Queued): void {
    if (this.streams.size < this.peerMaxStreams) this.start(q);
    else this.waiting.push(q);
  }

  /** Stops new streams; closes the socket once the streams in flight are done. */
  close(): void {
    if (this.closed) return;
    if (!this.draining) {
      this.drain("closing", H2Error.NO_ERROR, "");
      this.out.raw(goawayFrame(NO_PEER_STREAMS, H2Error.NO_ERROR));
    }
    if (this.streams.size === 0) this.endSocket();
  }

  /** Closes now: every open stream fails. */
  destroy(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.draining = true;
    this.keepalive.stop();
    this.reader.stop();
    const error: StreamError = { kind: "lost", h2Code: H2Error.INTERNAL_ERROR, message: reason };
    for (const q of this.waiting.splice(0)) q.handler.onClose({ ...error, kind: "refused" });
    for (const stream of this.streams.values()) this.finish(stream, error);
    this.socket.destroy();
    this.events.onClose(this, reason);
  }

  // ---- streams ----

  private start(q: Queued): void {
    if (this.nextId > 0x7fffffff) {
      this.drain("stream ids used up", H2Error.NO_ERROR, "");
      q.handler.onClose({ kind: "refused", h2Code: H2Error.REFUSED_STREAM, message: "connection draining" });
      return;
    }
    if (this.peerMaxHeaderList !== Number.POSITIVE_INFINITY) {
      // Checked before encoding: a block we then did not send would leave our HPACK table ahead of
      // the server's. Only this call fails; the connection stays in step and usable.
      const size = q.handler.headerListSize();
      if (size > this.peerMaxHeaderList) {
        const message = `the request's metadata is too large for the backend (a header list of ${size} bytes, it accepts ${this.peerMaxHeaderList})`;
        q.handler.onClose({ kind: "too-large", h2Code: H2Error.NO_ERROR, message });
        return;
      }
    }
    const stream = new H2Stream(this.nextId, q.handler, this.peerInitialWindow);
    this.nextId += 2;
    q.stream = stream;
    this.streams.set(stream.id, stream);
    q.handler.encodeHeaders(this.encoder.begin());
    const empty = q.body.length === 0;
    stream.localEnd = q.end;
    stream.paused = q.paused;
    stream.wantsDrain = q.wantsDrain;
    stream.endSent = q.end && empty;
    this.writeHeaders(stream.id, this.encoder.block(), stream.endSent);
    if (!empty) {
      stream.pending = q.body;
      this.sendPending(stream);
    }
  }

  /** A header block in one HEADERS frame, or HEADERS and CONTINUATION frames when it is larger. */
  private writeHeaders(id: number, block: Buffer, endStream: boolean): void {
    const max = this.peerMaxFrame;
    if (block.length <= max) {
      const flags = Flag.END_HEADERS | (endStream ? Flag.END_STREAM : 0);
      this.out.frame(FrameType.HEADERS, flags, id, block);
      return;
    }
    this.out.frame(FrameType.HEADERS, endStream ? Flag.END_STREAM : 0, id, block, 0, max);
    for (let at = max; at < block.length; at += max) {
      const end = Math.min(at + max, block.length);
      const flags = end === block.length ? Flag.END_HEADERS : 0;
      this.out.frame(FrameType.CONTINUATION, flags, id, block, at, end - at);
    }
  }

  /** Sends as much of the stream's request as both windows allow; the last DATA frame ends the stream. */
  private sendPending(stream: H2Stream): void {
    let data = stream.pending;
    while (data && data.length > 0) {
      const n = Math.min(data.length, stream.sendWindow, this.connSendWindow, this.peerMaxFrame);
      if (n <= 0) {
        stream.pending = data; // blocked until a WINDOW_UPDATE (see unblock)
        this.someBlocked = true;
        return;
      }
      const last = n === data.length;
      const end = last && stream.localEnd;
      this.out.frame(FrameType.DATA, end ? Flag.END_STREAM : 0, stream.id, data, 0, n);
      if (end) stream.endSent = true;
      stream.sendWindow -= n;
      this.connSendWindow -= n;
      data = last ? undefined : data.subarray(n);
    }
    stream.pending = undefined;
    if (stream.wantsDrain) {
      stream.wantsDrain = false;
      stream.handler.onWritable?.();
    }
  }

  /**
   * The streams flow control held back are the ones with a request left to send. The flag spares the
   * walk over every stream on each WINDOW_UPDATE (backends send one per few dozen calls) when none is.
   */
  private unblock(): void {
    if (!this.someBlocked) return;
    this.someBlocked = false;
    for (const stream of this.streams.values()) {
      if (!stream.pending) continue;
      if (this.connSendWindow <= 0) {
        this.someBlocked = true;
        return;
      }
      this.sendPending(stream);
    }
  }

  private reset(stream: H2Stream, code: number): void {
    if (stream.closed) return;
    this.out.raw(rstStreamFrame(stream.id, code));
    this.finish(stream, { kind: "reset", h2Code: code, message: "cancelled" });
  }

  private finish(stream: H2Stream, error: StreamError | undefined): void {
    if (stream.closed) return;
    stream.closed = true;
    this.streams.delete(stream.id);
    stream.handler.onClose(error);
    if (this.waiting.length > 0 && !this.draining && this.streams.size < this.peerMaxStreams) {
      this.start(this.waiting.shift()!);
    }
    if (this.draining && this.streams.size === 0 && !this.closed) this.endSocket();
  }

  private drain(reason: string, code: number, debug: string): void {
    if (this.draining) return;
    this.draining = true;
    this.events.onDraining(this, reason, code, debug);
  }

  private endSocket(): void {
    this.out.flush();
    this.socket.end();
  }

  // ---- reading (writing is writer.ts's) ----

  private onData(chunk: Buffer): void {
    this.keepalive.heard = true;
    try {
      this.reader.read(chunk);
    } catch (err) {
      const code = err instanceof ProtocolError ? err.code : H2Error.COMPRESSION_ERROR;
      this.out.raw(goawayFrame(NO_PEER_STREAMS, code));
      this.out.flush();
      this.destroy(`protocol error: ${(err as Error).message}`);
    }
  }

  /** FrameSink: every frame but the header blocks. */
  onFrame(type: number, flags: number, id: number, payload: Buffer): void {
    switch (type) {
      case FrameType.DATA:
        this.onDataFrame(flags, id, payload);
        return;
      case FrameType.RST_STREAM: {
        const stream = this.streams.get(id);
        if (!stream || payload.length !== 4) return;
        const code = payload.readUInt32BE(0);
        this.finish(stream, {
          kind: code === H2Error.REFUSED_STREAM ? "refused" : "reset",
          h2Code: code,
          message: `stream reset by the server (HTTP/2 error ${code})`,
        });
        return;
      }
      case FrameType.SETTINGS:
        this.onSettings(flags, payload);
        return;
      case FrameType.PING:
        if (flags & Flag.ACK) this.keepalive.acked();
        else this.out.frame(FrameType.PING, Flag.ACK, 0, payload);
        return;
      case FrameType.GOAWAY:
        this.onGoaway(payload);
        return;
      case FrameType.WINDOW_UPDATE:
        this.onWindowUpdate(id, payload);
        return;
      case FrameType.PUSH_PROMISE:
        throw new ProtocolError(H2Error.PROTOCOL_ERROR, "PUSH_PROMISE although push is disabled");
      default:
        return; // PRIORITY and unknown types are ignored
    }
  }

  private onDataFrame(flags: number, id: number, payload: Buffer): void {
    // Flow control counts the whole payload, padding included.
    this.connUnacked += payload.length;
    if (this.connUnacked >= CONNECTION_WINDOW / 2) {
      this.out.raw(windowUpdateFrame(0, this.connUnacked));
      this.connUnacked = 0;
    }
    const stream = this.streams.get(id);
    if (!stream) return; // a stream we reset: its data still counted for the connection
    const data = flags & Flag.PADDED ? unpad(payload) : payload;
    const end = (flags & Flag.END_STREAM) !== 0;
    if (!end) {
      stream.unacked += payload.length;
      if (stream.unacked >= STREAM_WINDOW / 2 && !stream.paused) {
        this.out.raw(windowUpdateFrame(id, stream.unacked));
        stream.unacked = 0;
      }
    }
    stream.handler.onData(data, end);
    if (end) this.remoteEnd(stream);
  }

  /**
   * FrameSink: a complete header block. Decoded even for streams we no longer track (the HPACK table
   * moves on).
   */
  onHeaderBlock(id: number, flags: number, block: Buffer): void {
    let fields: HeaderField[];
    try {
      fields = this.decoder.decode(block, this.options.maxHeaderListSize);
    } catch (err) {
      if (err instanceof HeaderListTooLarge) {
        const stream = this.streams.get(id);
        if (stream) {
          this.out.raw(rstStreamFrame(id, H2Error.CANCEL));
          const message = `the backend's response headers are too large (${err.message})`;
          this.finish(stream, { kind: "reset", h2Code: H2Error.ENHANCE_YOUR_CALM, message });
        }
        return;
      }
      if (!(err instanceof HpackError)) throw err;
      throw new ProtocolError(H2Error.COMPRESSION_ERROR, err.message);
    }
    const stream = this.streams.get(id);
    if (!stream) return;
    const end = (flags & Flag.END_STREAM) !== 0;
    stream.handler.onHeaders(fields, end);
    if (end) this.remoteEnd(stream);
  }

  /** The server finished its side: the stream is done (gRPC: the trailers end the call). */
  private remoteEnd(stream: H2Stream): void {
    if (!stream.endSent) {
      // Answered before reading our whole request: stop sending the rest (RFC 9113 8.1).
      this.out.raw(rstStreamFrame(stream.id, H2Error.NO_ERROR));
    }
    this.finish(stream, undefined);
  }

  private onSettings(flags: number, payload: Buffer): void {
    if (flags & Flag.ACK) return;
    if (payload.length % 6 !== 0) throw new ProtocolError(H2Error.FRAME_SIZE_ERROR, "bad SETTINGS length");
    for (let at = 0; at < payload.length; at += 6) {
      const id = payload.readUInt16BE(at);
      const value = payload.readUInt32BE(at + 2);
      if (id === Setting.MAX_CONCURRENT_STREAMS) this.peerMaxStreams = value;
      else if (id === Setting.HEADER_TABLE_SIZE) this.encoder.setMaxSize(value);
      else if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) throw new ProtocolError(H2Error.FLOW_CONTROL_ERROR, "window too large");
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const s of this.streams.values()) s.sendWindow += delta;
      } else if (id === Setting.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME || value > 16_777_215)
          throw new ProtocolError(H2Error.PROTOCOL_ERROR, "bad MAX_FRAME_SIZE");
        this.peerMaxFrame = value;
      } else if (id === Setting.MAX_HEADER_LIST_SIZE) this.peerMaxHeaderList = value;
    }
    this.out.frame(FrameType.SETTINGS, Flag.ACK, 0);
    this.unblock();
    while (this.waiting.length > 0 && this.streams.size < this.peerMaxStreams)
      this.start(this.waiting.shift()!);
    if (!this.ready) {
      this.ready = true;
      this.events.onReady(this);
    }
  }

  private onGoaway(payload: Buffer): void {
    if (payload.length < 8) throw new ProtocolError(H2Error.FRAME_SIZE_ERROR, "short GOAWAY");
    const last = payload.readUInt32BE(0) & 0x7fffffff;
    const code = payload.readUInt32BE(4);
    const debug = payload.subarray(8).toString("latin1");
    this.drain("server sent GOAWAY", code, debug);
    const refused: StreamError = {
      kind: "refused",
      h2Code: H2Error.REFUSED_STREAM,
      message: `the server is going away${debug ? ` (${debug})` : ""}`,
    };
    for (const q of this.waiting.splice(0)) q.handler.onClose(refused);
    for (const stream of this.streams.values()) if (stream.id > last) this.finish(stream, refused);
    if (code !== H2Error.NO_ERROR) {
      // An error code means a connection error (RFC 9113 5.4.1): the server will close it, and the
      // streams it had taken will never be answered. Waiting for the close (which some servers never
      // do) would hold every call until its deadline; they may have run, so they fail, not retry.
      this.destroy(
        `the backend ended the connection with GOAWAY ${h2ErrorName(code)}${debug ? ` (${debug})` : ""}`,
      );
      return;
    }
    if (this.streams.size === 0) this.endSocket();
  }

  private onWindowUpdate(id: number, payload: Buffer): void {
    if (payload.length !== 4) throw new ProtocolError(H2Error.FRAME_SIZE_ERROR, "bad WINDOW_UPDATE length");
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (id === 0) {
      this.connSendWindow += increment;
      if (this.connSendWindow > MAX_WINDOW)
        throw new ProtocolError(H2Error.FLOW_CONTROL_ERROR, "window overflow");
      this.unblock();
      return;
    }
    const stream = this.streams.get(id);
    if (!stream) return;
    stream.sendWindow += increment;
    if (stream.pending) this.sendPending(stream);
  }
}

const EMPTY = Buffer.alloc(0);

/** GOAWAY's last-stream-id from a client: the server opens no streams to us (push is off). */
const NO_PEER_STREAMS = 0;

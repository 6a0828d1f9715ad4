import { DEFAULT_MAX_FRAME, Flag, FRAME_HEADER, FrameType, H2Error, ProtocolError } from "./frame.js";

/** Where a FrameReader delivers: header blocks whole (HEADERS + CONTINUATION), other frames as they are. */
export interface FrameSink {
  /** A frame other than HEADERS and CONTINUATION; `payload` is a view into the read buffer. */
  onFrame(type: number, flags: number, id: number, payload: Buffer): void;
  /** A complete header block, padding and priority removed; `flags` are those of its HEADERS frame. */
  onHeaderBlock(id: number, flags: number, block: Buffer): void;
}

/**
 * Cuts what the socket reads into frames (a frame may span reads; a read may hold many frames) and
 * joins a header block split over CONTINUATION frames, which must follow their HEADERS with nothing
 * between (RFC 9113 6.10). Framing errors throw ProtocolError; the session answers them with GOAWAY.
 */
export class FrameReader {
  private leftover: Buffer | undefined;
  private headerStream = 0;
  private headerFlags = 0;
  private headerParts: Buffer[] = [];
  private stopped = false;

  constructor(private readonly sink: FrameSink) {}

  /** No more frames are delivered, not even the rest of the current read (the connection is gone). */
  stop(): void {
    this.stopped = true;
  }

  read(chunk: Buffer): void {
    let buf = chunk;
    if (this.leftover) {
      buf = Buffer.concat([this.leftover, chunk]);
      this.leftover = undefined;
    }
    let at = 0;
    while (buf.length - at >= FRAME_HEADER && !this.stopped) {
      const length = (buf[at]! << 16) | (buf[at + 1]! << 8) | buf[at + 2]!;
      if (length > DEFAULT_MAX_FRAME) throw new ProtocolError(H2Error.FRAME_SIZE_ERROR, "frame too large");
      if (buf.length - at < FRAME_HEADER + length) break;
      const type = buf[at + 3]!;
      const flags = buf[at + 4]!;
      const id = buf.readUInt32BE(at + 5) & 0x7fffffff;
      const payload = buf.subarray(at + FRAME_HEADER, at + FRAME_HEADER + length);
      at += FRAME_HEADER + length;
      this.frame(type, flags, id, payload);
    }
    if (at < buf.length && !this.stopped) this.leftover = buf.subarray(at);
  }

  private frame(type: number, flags: number, id: number, payload: Buffer): void {
    if (this.headerStream !== 0 && type !== FrameType.CONTINUATION) {
      throw new ProtocolError(H2Error.PROTOCOL_ERROR, "expected CONTINUATION");
    }
    if (type === FrameType.HEADERS) {
      let block = flags & Flag.PADDED ? unpad(payload) : payload;
      if (flags & Flag.PRIORITY) block = block.subarray(5);
      if (flags & Flag.END_HEADERS) {
        this.sink.onHeaderBlock(id, flags, block);
        return;
      }
      this.headerStream = id;
      this.headerFlags = flags;
      this.headerParts = [block];
    } else if (type === FrameType.CONTINUATION) {
      if (id === 0 || id !== this.headerStream)
        throw new ProtocolError(H2Error.PROTOCOL_ERROR, "stray CONTINUATION");
      this.headerParts.push(payload);
      if (flags & Flag.END_HEADERS) {
        const parts = this.headerParts;
        this.headerStream = 0;
        this.headerParts = [];
        this.sink.onHeaderBlock(id, this.headerFlags, Buffer.concat(parts));
      }
    } else {
      this.sink.onFrame(type, flags, id, payload);
    }
  }
}

/** A PADDED frame's content: the pad length byte and the padding removed. */
export function unpad(payload: Buffer): Buffer {
  const pad = payload[0] ?? 0;
  if (pad >= payload.length) throw new ProtocolError(H2Error.PROTOCOL_ERROR, "padding longer than the frame");
  return payload.subarray(1, payload.length - pad);
}

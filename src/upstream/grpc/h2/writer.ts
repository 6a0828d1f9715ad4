import type { Socket } from "node:net";
import { FRAME_HEADER, writeHeader } from "./frame.js";

/** Bytes of the buffer frames are gathered in; a larger frame gets a buffer of its own size. */
const GATHER_SIZE = 64 * 1024;

/**
 * The outgoing side of a connection. Frames are written into one buffer, and all the frames of an
 * event-loop turn leave in one socket write: a single syscall (and a single wake-up of the server)
 * for every call started in that turn, and no Buffer object per frame. The buffer is reused when the
 * kernel took the last write at once; while the socket still holds it, the next frames go to a new one.
 */
export class FrameWriter {
  private buf = Buffer.allocUnsafe(GATHER_SIZE);
  private at = 0;
  private scheduled = false;
  private readonly flushNow = (): void => this.flush();

  constructor(private readonly socket: Socket) {}

  /** A frame whose payload is `length` bytes of `source` from `start` (none when `source` is undefined). */
  frame(
    type: number,
    flags: number,
    streamId: number,
    source?: Buffer,
    start = 0,
    length = source ? source.length - start : 0,
  ): void {
    this.reserve(FRAME_HEADER + length);
    writeHeader(this.buf, this.at, length, type, flags, streamId);
    this.at += FRAME_HEADER;
    if (length > 0) this.at += source!.copy(this.buf, this.at, start, start + length);
    this.schedule();
  }

  /** Bytes built elsewhere (the connection preface, control frames). */
  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.at);
    this.at += bytes.length;
    this.schedule();
  }

  /** Sends what is gathered now (before closing the socket, or when the buffer is full). */
  flush(): void {
    this.scheduled = false;
    if (this.at === 0) return;
    if (this.socket.destroyed) {
      this.at = 0;
      return;
    }
    this.socket.write(this.buf.subarray(0, this.at));
    this.at = 0;
    // The socket keeps a reference to what the kernel has not taken yet: never overwrite that.
    if (this.socket.writableLength > 0) this.buf = Buffer.allocUnsafe(GATHER_SIZE);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flushNow);
  }

  private reserve(n: number): void {
    if (this.at + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(GATHER_SIZE, n));
  }
}

import { timerDelay } from "../deadline-lists.js";

/**
 * Keepalive of one connection: a PING goes out after a whole interval in which nothing was read from
 * the server, and the connection is given up when its ACK does not come in time. The session sets
 * `heard` on every read (a field, not a clock read per read); the timer clears it.
 */
export class Keepalive {
  heard = false;
  private timer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
    private readonly sendPing: () => void,
    private readonly onTimeout: () => void,
  ) {
    this.arm();
  }

  /** The server answered our PING. */
  acked(): void {
    clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
  }

  stop(): void {
    clearTimeout(this.timer);
    clearTimeout(this.pingTimer);
    this.timer = undefined;
    this.pingTimer = undefined;
  }

  private arm(): void {
    if (this.intervalMs <= 0) return;
    // timerDelay: the interval doubles each time a server says "too_many_pings" (channel.ts)
    this.timer = setTimeout(() => this.tick(), timerDelay(this.intervalMs));
    this.timer.unref();
  }

  private tick(): void {
    if (!this.heard && !this.pingTimer) {
      this.sendPing();
      this.pingTimer = setTimeout(() => this.onTimeout(), timerDelay(this.timeoutMs));
      this.pingTimer.unref();
    }
    this.heard = false;
    this.arm();
  }
}

import { Code } from "../errors/code.js";
import { GatewayError } from "../errors/gateway-error.js";
import type { StreamControl } from "../upstream/target.js";
import type { Interceptor } from "./interceptor.js";

/** How long before the drain deadline open streams are ended, at most, ms: time to write the end record. */
export const END_BEFORE_DEADLINE_MS = 1000;

/** The cause of a stream's end at shutdown: the gateway, not the backend, ended it. */
export class ServerShutdown extends Error {
  override readonly name = "ServerShutdown";
}

/** The status a stream ends with at shutdown: UNAVAILABLE, so that the client reconnects elsewhere. */
export function shuttingDown(): GatewayError {
  return new GatewayError(Code.UNAVAILABLE, "server shutting down", {
    cause: new ServerShutdown("the gateway is shutting down"),
  });
}

/**
 * True when a stream ended because the gateway shuts down: a WebSocket closes with 1001 (Going Away,
 * RFC 6455 section 7.4.1) after its status frame then, instead of 4000 + code.
 */
export function isShutdownEnd(err: GatewayError | undefined): boolean {
  return err?.cause instanceof ServerShutdown;
}

/**
 * The long-lived responses of one gateway (streams), ended before its drain deadline at shutdown. One
 * per gateway, kept across reconfigures. `track` registers how to end one; `begin(deadline)` (the
 * gateway's onShutdown) ends every stream open at `deadline - min(END_BEFORE_DEADLINE_MS, half the time
 * left)`, and those opened after it at that time too (at once once it has passed). Until then they go
 * on: a stream that finishes during the drain finishes normally.
 */
export class StreamDrain {
  private readonly open = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private ending = false;
  private waiting: Array<() => void> = [];

  /** Registers a stream's `end`; returns what unregisters it (call it when the stream ends by itself). */
  track(end: () => void): () => void {
    if (this.ending) {
      setImmediate(end); // never synchronously inside the caller's open()
      return noop;
    }
    this.open.add(end);
    return () => {
      this.open.delete(end);
      if (this.open.size === 0) this.settle();
    };
  }

  /** Streams open now. */
  get size(): number {
    return this.open.size;
  }

  /** The drain has begun: `deadline` (epoch ms) is when what is still running is cut. Idempotent. */
  begin(deadline: number): void {
    if (this.timer || this.ending) return;
    const left = Math.max(0, deadline - Date.now());
    const at = left - Math.min(END_BEFORE_DEADLINE_MS, left / 2);
    this.timer = setTimeout(() => this.endAll(), at);
    this.timer.unref();
  }

  /** Ends every open stream now (the drain's time is up, or the gateway closes at once). */
  endAll(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.ending = true;
    const ends = [...this.open];
    this.open.clear();
    for (const end of ends) {
      try {
        end();
      } catch {
        // one stream's writer failing must not keep the others open
      }
    }
    this.settle();
  }

  /** Resolves once no stream is open (at once when none is). */
  idle(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Stops the timer (the gateway has closed). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private settle(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w();
  }
}

/**
 * Outermost for streams: each stream is tracked by the gateway's StreamDrain, which at shutdown ends it
 * with UNAVAILABLE "server shutting down" (shuttingDown()) in its own framing (the HTTP side writes the
 * error record: NDJSON `{"error":...}`, SSE `event: error`, the array's last element, a WebSocket status
 * frame) and cancels the upstream stream (RST_STREAM CANCEL), so that a client can tell and reconnect.
 * Unary calls are not wrapped: the drain waits for them.
 */
export function streamDrainInterceptor(drain: StreamDrain): Interceptor {
  return {
    name: "streamDrain",
    wrap: (next) => next,
    wrapStream: (next) => (call, sink) => {
      let ended = false;
      let control: StreamControl | undefined;
      const untrack = drain.track(() => {
        if (ended) return;
        ended = true;
        sink.onEnd(shuttingDown(), {});
        control?.cancel();
      });
      control = next(call, {
        onHeaders: (headers) => {
          if (!ended) sink.onHeaders(headers);
        },
        onMessage: (message) => {
          if (!ended) sink.onMessage(message);
        },
        onDrain: () => {
          if (!ended) sink.onDrain();
        },
        onEnd(err, trailers) {
          if (ended) return;
          ended = true;
          untrack();
          sink.onEnd(err, trailers);
        },
      });
      return control;
    },
  };
}

function noop(): void {}

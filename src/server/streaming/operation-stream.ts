import type { IncomingMessage, ServerResponse } from "node:http";
import { Code } from "../../errors/code.js";
import { GatewayError } from "../../errors/gateway-error.js";
import { renderError } from "../../errors/status-json.js";
import { type StreamDrain, shuttingDown } from "../../interceptors/stream-drain.js";
import { type Operation, served } from "../../upstream/amqp/operations.js";
import { chooseFraming } from "./framing.js";
import { STREAM_DEFAULTS } from "./settings.js";

/** How often a streamed operation is read again from its store, ms. */
export const OPERATION_POLL_MS = 250;

/** Whether the client asks for the operation as a stream (SSE or NDJSON named in Accept). */
export function wantsOperationStream(accept: string | undefined): boolean {
  return !!accept && /text\/event-stream|application\/x-ndjson/i.test(accept);
}

/**
 * `GET /v1/operations/{id}` as a stream (issue #14 item 8): the operation (google.longrunning.Operation
 * JSON) is sent first, then again each time it changes (a worker's progress report, its completion),
 * in the framing Accept asks for (framing.ts); after the one with `done: true` comes the end record.
 * Changes are found by reading the store every `pollMs`, so it works with the Redis store whichever
 * instance the worker's reports reach. An operation that expires meanwhile ends with a NOT_FOUND error
 * record; a store that fails, with UNAVAILABLE. The client closing stops the polling. With `drain` (the
 * gateway's), a shutdown ends it with UNAVAILABLE "server shutting down" before the drain deadline.
 */
export function streamOperation(
  req: IncomingMessage,
  res: ServerResponse,
  first: Operation,
  get: () => Promise<Operation | undefined>,
  headers: Record<string, string | string[] | number | undefined>,
  pollMs = OPERATION_POLL_MS,
  drain?: StreamDrain,
): void {
  const framing = chooseFraming(req.headers.accept);
  res.writeHead(200, {
    ...headers,
    "content-type": framing.contentType,
    "cache-control": "no-cache",
    "x-accel-buffering": "no",
  });
  res.write(framing.start(0));
  let seq = 1;
  let last = "";
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let sinceBeat = 0;
  let untrack: (() => void) | undefined;
  const stop = (): void => {
    stopped = true;
    if (timer) clearTimeout(timer);
    untrack?.();
  };
  res.once("close", stop);
  const end = (err: GatewayError | undefined): void => {
    if (stopped) return;
    stop();
    res.end(err ? framing.error(renderError(err).body) : framing.end({}));
  };
  untrack = drain?.track(() => end(shuttingDown()));
  const show = (op: Operation): void => {
    const json = served(op);
    if (json !== last) {
      last = json;
      sinceBeat = 0;
      res.write(framing.message(json, seq++));
    }
    if (op.done) return void end(undefined);
    sinceBeat += pollMs;
    const beat = framing.heartbeat();
    if (beat && sinceBeat >= STREAM_DEFAULTS.heartbeatInterval) {
      sinceBeat = 0;
      res.write(beat);
    }
    timer = setTimeout(poll, pollMs);
  };
  const poll = (): void => {
    get().then(
      (op) => {
        if (stopped) return;
        if (!op) return void end(new GatewayError(Code.NOT_FOUND, "the operation expired"));
        show(op);
      },
      (err: unknown) => {
        if (stopped) return;
        end(
          new GatewayError(Code.UNAVAILABLE, `the operation store is unavailable: ${(err as Error).message}`),
        );
      },
    );
  };
  show(first);
}

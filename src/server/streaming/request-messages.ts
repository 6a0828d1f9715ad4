import type { Readable } from "node:stream";
import { Code } from "../../errors/code.js";
import { GatewayError } from "../../errors/gateway-error.js";

/** Where the request messages of a client stream go, one JSON text at a time. */
export interface MessageSink {
  /** One message's JSON text; false: stop reading until resume() is called. */
  message(json: Buffer): boolean;
  /** The body is over. */
  end(): void;
  /** The body is malformed or over a limit: the call must stop with `err` (INVALID_ARGUMENT...). */
  fail(err: GatewayError): void;
}

export interface MessageLimits {
  /** Largest message, bytes. */
  readonly maxMessageBytes: number;
  /** Most messages; 0 for no limit. */
  readonly maxMessages: number;
}

/** Controls reading a streamed body. */
export interface BodyReader {
  resume(): void;
  /** Stops reading for good (the call ended). */
  stop(): void;
}

const NEWLINE = 0x0a;

/**
 * Reads an NDJSON request body as it arrives: each non-empty line is one message (a trailing "\r" is
 * dropped). A line over `maxMessageBytes` or a message past `maxMessages` fails with
 * RESOURCE_EXHAUSTED as soon as it is seen, before the rest of the body arrives. Backpressure: when
 * `sink.message` returns false the body is paused until resume().
 */
export function readNdjson(body: Readable, limits: MessageLimits, sink: MessageSink): BodyReader {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let count = 0;
  let stopped = false;
  const lineDone = (line: Buffer): boolean => {
    const end = line.length > 0 && line[line.length - 1] === 0x0d ? line.length - 1 : line.length;
    const text = line.subarray(0, end);
    if (text.toString("latin1").trim() === "") return true;
    count++;
    if (limits.maxMessages > 0 && count > limits.maxMessages) {
      fail(new GatewayError(Code.RESOURCE_EXHAUSTED, `more than ${limits.maxMessages} request messages`));
      return false;
    }
    return sink.message(text);
  };
  const fail = (err: GatewayError): void => {
    if (stopped) return;
    stop();
    sink.fail(err);
  };
  const tooLarge = (): GatewayError =>
    new GatewayError(
      Code.RESOURCE_EXHAUSTED,
      `request message ${count + 1} is larger than ${limits.maxMessageBytes} bytes`,
    );
  const onData = (chunk: Buffer): void => {
    let from = 0;
    for (;;) {
      if (stopped) return;
      const nl = chunk.indexOf(NEWLINE, from);
      if (nl === -1) break;
      const part = chunk.subarray(from, nl);
      from = nl + 1;
      if (pendingBytes + part.length > limits.maxMessageBytes) return void fail(tooLarge());
      const line = pending.length ? Buffer.concat([...pending, part]) : part;
      pending = [];
      pendingBytes = 0;
      if (!lineDone(line) && !stopped) body.pause();
    }
    const rest = chunk.subarray(from);
    if (rest.length === 0) return;
    pendingBytes += rest.length;
    if (pendingBytes > limits.maxMessageBytes) return void fail(tooLarge());
    pending.push(Buffer.from(rest)); // a copy: the chunk's memory may be reused
  };
  const onEnd = (): void => {
    if (stopped) return;
    if (pendingBytes > 0) {
      const line = Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      lineDone(line);
    }
    if (stopped) return;
    stopped = true;
    sink.end();
  };
  const onError = (): void => {
    // The client went away mid-body: the response side sees the close and cancels the call.
    stop();
  };
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    body.off("data", onData);
    body.off("end", onEnd);
    body.resume(); // drain what is left so the connection can answer
  };
  body.on("data", onData);
  body.on("end", onEnd);
  body.once("error", onError);
  return {
    resume: () => {
      if (!stopped) body.resume();
    },
    stop,
  };
}

/**
 * A JSON array body already read whole (Fastify's JSON parser buffers it, up to bodyLimit), as
 * messages: each element, re-serialised. Not an array, or bad JSON: INVALID_ARGUMENT.
 */
export function arrayMessages(body: Buffer, limits: MessageLimits): Buffer[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch (err) {
    throw new GatewayError(
      Code.INVALID_ARGUMENT,
      `request body is not valid JSON: ${(err as Error).message}`,
    );
  }
  if (!Array.isArray(parsed)) {
    throw new GatewayError(
      Code.INVALID_ARGUMENT,
      "a client-streaming request body must be a JSON array (application/json) or NDJSON (application/x-ndjson)",
    );
  }
  if (limits.maxMessages > 0 && parsed.length > limits.maxMessages) {
    throw new GatewayError(Code.RESOURCE_EXHAUSTED, `more than ${limits.maxMessages} request messages`);
  }
  return parsed.map((m) => Buffer.from(JSON.stringify(m)));
}

import pino from "pino";

/** Where the gateway's pino logger writes: `write` takes one serialized line (with its newline). */
export interface LogDestination {
  write(line: string): void;
}

let shared: LogDestination | undefined;

/** Lines are written once this many bytes wait, or FLUSH_MS after the first of them. */
const FLUSH_BYTES = 64 * 1024;
/** Room kept past FLUSH_BYTES for the line that crosses it; a longer line is written by itself. */
const LINE_ROOM = 16 * 1024;
/** How long a log line may wait for the ones after it (Envoy flushes its access logs every 1 s). */
const FLUSH_MS = 100;

/**
 * The gateway logger's destination on stdout: lines are gathered and written together, once 64 KiB wait
 * or 100 ms after the first of them (FLUSH_MS), whichever comes first. pino's own default (sonic-boom,
 * asynchronous) issues a `write(2)` per line whenever none is in progress, which at one access-log line
 * per request was a syscall and a byte count per request, and writing per event-loop turn still cost a
 * seventh of the CPU under load (bench/README.md). A batch is written synchronously (one `write(2)`,
 * through sonic-boom, which retries EAGAIN and stops writing on EPIPE). Lines still waiting when the process exits (normally,
 * by `process.exit`, or after an uncaught exception) are written synchronously from the `exit` event,
 * so none is lost. One per process: every gateway in it shares stdout. When stdout has been replaced (a
 * test runner capturing it), lines go through `process.stdout.write` as pino itself would do.
 */
export function logDestination(): LogDestination {
  if (shared) return shared;
  if (process.stdout.write !== Object.getPrototypeOf(process.stdout).write) {
    shared = { write: (line) => void process.stdout.write(line) };
    return shared;
  }
  // synchronous writes of whole batches: one syscall per batch, and nothing in flight to lose at exit
  const out = pino.destination({ dest: 1, sync: true, contentMode: "buffer" });
  // Lines are encoded into one buffer as they come: no string is kept until the flush, and the batch
  // needs no join and no second UTF-8 pass.
  let buf = Buffer.allocUnsafe(FLUSH_BYTES + LINE_ROOM);
  let at = 0;
  let timer: NodeJS.Timeout | undefined;
  const drain = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (at === 0) return;
    const batch = buf.subarray(0, at);
    buf = Buffer.allocUnsafe(FLUSH_BYTES + LINE_ROOM); // the written one may still be referenced
    at = 0;
    writeBytes(out, batch);
  };
  process.once("exit", () => {
    drain();
    try {
      out.flushSync();
    } catch {
      // stdout closed (EPIPE) or not open yet: nothing more can be written anyway
    }
  });
  shared = {
    write(line) {
      // a UTF-16 code unit is at most 3 bytes of UTF-8: a line that may not fit is written on its own
      if (line.length * 3 > LINE_ROOM) {
        drain();
        writeBytes(out, Buffer.from(line));
        return;
      }
      at += buf.write(line, at);
      if (at >= FLUSH_BYTES) drain();
      // unref: a line waiting must not keep the process alive; the exit handler writes it
      else if (!timer) timer = setTimeout(drain, FLUSH_MS).unref();
    },
  };
  return shared;
}

/** sonic-boom in buffer mode takes Buffers (its string typing is for its default mode). */
function writeBytes(out: { write(data: string): boolean }, bytes: Buffer): void {
  out.write(bytes as unknown as string);
}

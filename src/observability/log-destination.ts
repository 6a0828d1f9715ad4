import pino from "pino";

/** Where the gateway's pino logger writes: `write` takes one serialized line (with its newline). */
export interface LogDestination {
  write(line: string): void;
}

let shared: LogDestination | undefined;

/**
 * The gateway logger's destination on stdout: the lines written during one event-loop turn leave in one
 * write. pino's own default (sonic-boom, asynchronous) issues a `write(2)` per line whenever none is in
 * progress, which at one access-log line per request was a syscall and a byte count per request
 * (bench/README.md, "Access log"). A line waits at most for the end of the turn that wrote it; lines
 * still waiting when the process exits (normally, by `process.exit`, or after an uncaught exception) are
 * written synchronously from the `exit` event, so none is lost. One per process: every gateway in it
 * shares stdout. When stdout has been replaced (a test runner capturing it), lines go through
 * `process.stdout.write` as pino itself would do.
 */
export function logDestination(): LogDestination {
  if (shared) return shared;
  if (process.stdout.write !== Object.getPrototypeOf(process.stdout).write) {
    shared = { write: (line) => void process.stdout.write(line) };
    return shared;
  }
  const out = pino.destination({ dest: 1, sync: false });
  let pending: string[] = [];
  let scheduled = false;
  const drain = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.length === 1 ? pending[0]! : pending.join("");
    pending = [];
    out.write(text);
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
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
    },
  };
  return shared;
}

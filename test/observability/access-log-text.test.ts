import pino from "pino";
import { describe, expect, it } from "vitest";
import { type AccessLogLine, accessLogText } from "../../src/observability/access-log.js";
import { rng } from "../helpers/random.js";

/**
 * The access log line is written by a fixed-shape serializer, not by pino's: it must be what pino
 * writes for `log.info(line, "request")` with the gateway's logger options (the same JSON object, one
 * line), for any field values, including strings a client chose (request id, path) with quotes,
 * backslashes, control characters and non-ASCII.
 */
function pinoLine(line: AccessLogLine, time: number): string {
  let out = "";
  const logger = pino(
    { level: "info", timestamp: () => `,"time":${time}` },
    { write: (s: string) => (out += s) },
  );
  logger.info(line, "request");
  return out;
}

const STRINGS = [
  "",
  "a",
  'q"uote',
  "back\\slash",
  "new\nline",
  "tab\t",
  "\u0001ctl",
  "é日本",
  "\u2028sep",
  "/v1/a?x=***",
];

function randomLine(seed: number): AccessLogLine {
  const r = rng(seed);
  const s = () => (r.chance(0.5) ? r.pick(STRINGS) : `${r.pick(STRINGS)}${r.int(1000)}${r.pick(STRINGS)}`);
  const n = () => r.pick([0, 1, 200, 404, 1.234, 0.001, 12345.678, Number.NaN, Number.POSITIVE_INFINITY]);
  const line: AccessLogLine = {
    reqId: s(),
    client: s(),
    method: r.pick(["GET", "POST"]),
    route: s(),
    path: s(),
    status: n(),
    grpcCode: s(),
    durationMs: n(),
    bytesIn: n(),
    bytesOut: n(),
  };
  if (r.chance(0.5)) line.traceId = s();
  if (r.chance(0.5)) line.outcome = s();
  if (r.chance(0.5)) line.backend = s();
  if (r.chance(0.5)) line.attempts = n();
  if (r.chance(0.5)) line.upstreamMs = n();
  if (r.chance(0.5)) line.flags = r.chance(0.5) ? [s()] : [s(), s()];
  return line;
}

describe("accessLogText", () => {
  it("writes the JSON object pino writes for the same line, on one line", () => {
    for (let seed = 1; seed <= 500; seed++) {
      const line = randomLine(seed);
      const ours = accessLogText(line, 1_733_000_000_000 + seed);
      const theirs = pinoLine(line, 1_733_000_000_000 + seed);
      expect(ours.endsWith("\n") && ours.indexOf("\n") === ours.length - 1, `seed ${seed}`).toBe(true);
      expect(JSON.parse(ours), `seed ${seed}`).toEqual(JSON.parse(theirs));
    }
  });
});

import pino from "pino";
import { describe, expect, it } from "vitest";
import { type AccessLogLine, accessLogText } from "../../src/observability/access-log.js";
import { codeName } from "../../src/observability/code-name.js";
import { requestId } from "../../src/policies/request-id.js";
import { rng } from "../helpers/random.js";

/**
 * The access log line is written by a fixed-shape serializer, not by pino's: it must be what pino
 * writes for `log.info(line, "request")` with the gateway's logger options (the same JSON object, one
 * line), for any field values, including strings a client chose (path, client address through a proxy
 * header) with quotes, backslashes, control characters and non-ASCII. The fields written unescaped
 * (SAFE in AccessLogLine) take values from their sources' domains, and those sources are checked to
 * keep to them.
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

/** Characters of the SAFE fields' domains: request-id tokens, method tokens, hex, code names. */
const TOKEN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-!#$%&'*+^`|~";

function randomLine(seed: number): AccessLogLine {
  const r = rng(seed);
  const token = () => Array.from({ length: 1 + r.int(40) }, () => TOKEN[r.int(TOKEN.length)]).join("");
  const s = () => (r.chance(0.5) ? r.pick(STRINGS) : `${r.pick(STRINGS)}${r.int(1000)}${r.pick(STRINGS)}`);
  const n = () => r.pick([0, 1, 200, 404, 1.234, 0.001, 12345.678, Number.NaN, Number.POSITIVE_INFINITY]);
  const line: AccessLogLine = {
    reqId: token(),
    client: r.chance(0.5) ? r.pick(["127.0.0.1", "::1", "fe80::1%eth0", 'fe80::1%a"b', "203.0.113.7"]) : s(),
    method: r.chance(0.5) ? r.pick(["GET", "POST", "M-SEARCH"]) : token(),
    route: s(),
    path: s(),
    status: n(),
    grpcCode: codeName(r.int(20)),
    durationMs: n(),
    bytesIn: n(),
    bytesOut: n(),
  };
  if (r.chance(0.5)) line.traceId = "0af7651916cd43dd8448eb211c80319c";
  if (r.chance(0.5)) line.outcome = r.chance(0.5) ? codeName(r.int(17)) : r.pick(["confirmed", "replied"]);
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
      // the client address as the socket gives it: an IP literal, maybe with a zone id (any interface name)
      const ours = accessLogText(line, 1_733_000_000_000 + seed, /^[0-9a-f.:]+(%.*)?$/.test(line.client));
      const theirs = pinoLine(line, 1_733_000_000_000 + seed);
      expect(ours.endsWith("\n") && ours.indexOf("\n") === ours.length - 1, `seed ${seed}`).toBe(true);
      expect(JSON.parse(ours), `seed ${seed}`).toEqual(JSON.parse(theirs));
    }
  });
});

describe("the sources of the fields written unescaped", () => {
  // A client's X-Request-Id becomes the line's reqId only when it needs no escaping.
  it.each([
    ["abc-123_x.y:z", "abc-123_x.y:z"],
    ['a"b', undefined],
    ["a\\b", undefined],
    ["a\u0001b", undefined],
    ["é", undefined],
    ["x".repeat(129), undefined],
  ])("should keep the request id %j only when it is a safe token", (given, kept) => {
    const id = requestId({ headers: { "x-request-id": given } } as never);
    if (kept) expect(id).toBe(kept);
    else expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it("should name every code without characters JSON escapes", () => {
    for (let c = -1; c < 20; c++) expect(JSON.stringify(codeName(c))).toBe(`"${codeName(c)}"`);
  });
});

import { hostname } from "node:os";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Code } from "../errors/code.js";
import { codeName } from "./code-name.js";
import { requestBytes, responseBytes } from "./http-metrics.js";
import type { LogDestination } from "./log-destination.js";
import { routeLabel } from "./route-label.js";
import { parseTraceparent } from "./trace-context.js";
import "./request-facts.js";

/**
 * One access log line's fields (besides pino's `level`, `time` and `msg: "request"`). The fields marked
 * SAFE hold no character that JSON escapes (`"`, `\\`, controls, lone surrogates) by construction, and
 * accessLogText writes them unescaped: keep it so when their sources change.
 */
export interface AccessLogLine {
  /** SAFE: policies/request-id.ts accepts only `[A-Za-z0-9._:-]` from clients and makes hex ids. */
  reqId: string;
  /** SAFE (32 lower-case hex digits, parseTraceparent): the trace id the request runs under, when there is one. */
  traceId?: string | undefined;
  client: string;
  /** SAFE: an HTTP method is a token (RFC 9110 5.6.2); Node's HTTP/1 parser and nghttp2 refuse others. */
  method: string;
  /** The rule's template, a static endpoint's path, or `_unmatched`. */
  route: string;
  /** The path as requested, query values replaced by `***`. */
  path: string;
  status: number;
  /** SAFE: the gRPC code name of the answer: "OK", or the error's ("NOT_FOUND", "UNAVAILABLE"...). */
  grpcCode: string;
  /** SAFE: the upstream's outcome, a gRPC code name or one of the AMQP target's words ("confirmed", "replied"). */
  outcome?: string | undefined;
  backend?: string | undefined;
  attempts?: number | undefined;
  durationMs: number;
  upstreamMs?: number | undefined;
  bytesIn: number;
  bytesOut: number;
  /** client_disconnected, upstream_timeout, rate_limited, retried. */
  flags?: string[] | undefined;
}

/**
 * The access log: one JSON line per request on the gateway logger's destination, at `info`, in pino's
 * line format (`level`, `time`, `pid`, `hostname`, the fields, `msg: "request"`), built from the request
 * state and the call's notes. The line has a fixed shape, so it is written by `accessLogText` rather than
 * pino's generic serializer, which cost about 2 us a line (bench/README.md, "Observability cost"); the
 * gateway's other lines go through pino. Headers are never logged (Authorization, cookies, API keys stay
 * out), nor query values. `sampleRatio` keeps that share of lines; 5xx answers are always kept.
 */
export class AccessLog {
  /**
   * `trustProxy`: the gateway's (Fastify's) setting; when it is off, the client address is the socket's
   * own, an IP literal, written unescaped unless it has an IPv6 zone id (accessLogText).
   */
  constructor(
    private readonly sampleRatio: number,
    private readonly out: LogDestination,
    private readonly trustProxy: boolean,
  ) {}

  /** onResponse part. */
  write(req: FastifyRequest, reply: FastifyReply, disconnected: boolean): void {
    const status = reply.statusCode;
    if (this.sampleRatio < 1 && status < 500 && Math.random() >= this.sampleRatio) return;
    this.out.write(accessLogText(accessLogLine(req, reply, disconnected), Date.now(), !this.trustProxy));
  }
}

// pino's line head: its level number for info, then its default bindings (pid, hostname)
const INFO = 30;
const BINDINGS = `,"pid":${process.pid},"hostname":${JSON.stringify(hostname())}`;

/**
 * One access log line as pino writes a log call `info(line, "request")` (its default options: epoch
 * milliseconds `time`, `pid` and `hostname`), newline included: the same JSON object (a test parses
 * both for random lines). Fields whose characters need no JSON escaping by construction are quoted
 * as they are (SAFE below), and so is `client` when `clientIsSocket` says it is the socket's address (an
 * IP literal, without trustProxy); the route and backend, from small sets, are quoted once each
 * (`quoted`); the path and a client address taken from X-Forwarded-For are escaped by JSON.stringify:
 * quotings of our own (a charCodeAt loop, a regular-expression check, each field's last value
 * remembered) measured more instructions per request in the gateway, not fewer (bench/README.md,
 * "Instructions per request"). Durations with at most three decimals are written from integers,
 * without the double-to-decimal conversion. Non-finite numbers are written as null, as pino does.
 */
export function accessLogText(line: AccessLogLine, time: number, clientIsSocket = false): string {
  // SAFE: reqId, traceId, method, grpcCode and outcome
  let text = `{"level":${INFO},"time":${time}${BINDINGS},"reqId":"${line.reqId}"`;
  if (line.traceId !== undefined) text += `,"traceId":"${line.traceId}"`;
  // an IPv6 zone id (`fe80::1%eth0`) is an interface name, which may hold any character but / : and spaces
  const client =
    clientIsSocket && line.client.indexOf("%") === -1 ? `"${line.client}"` : JSON.stringify(line.client);
  text += `,"client":${client},"method":"${line.method}","route":${quoted(line.route)},"path":${JSON.stringify(line.path)},"status":${num(line.status)},"grpcCode":"${line.grpcCode}"`;
  if (line.outcome !== undefined) text += `,"outcome":"${line.outcome}"`;
  if (line.backend !== undefined) text += `,"backend":${quoted(line.backend)}`;
  if (line.attempts !== undefined) text += `,"attempts":${num(line.attempts)}`;
  text += `,"durationMs":${num(line.durationMs)}`;
  if (line.upstreamMs !== undefined) text += `,"upstreamMs":${num(line.upstreamMs)}`;
  text += `,"bytesIn":${num(line.bytesIn)},"bytesOut":${num(line.bytesOut)}`;
  if (line.flags !== undefined) text += `,"flags":${JSON.stringify(line.flags)}`;
  return `${text},"msg":"request"}\n`;
}

/** JSON strings of the route templates and backend addresses seen, by value (a bounded set). */
const QUOTED = new Map<string, string>();
const MAX_QUOTED = 10_000;

/** `JSON.stringify(s)`, remembered: for values from a small set (route templates, backend addresses). */
function quoted(s: string): string {
  let q = QUOTED.get(s);
  if (q === undefined) {
    if (QUOTED.size >= MAX_QUOTED) QUOTED.clear(); // a bound, should the set not be small after all
    q = JSON.stringify(s);
    QUOTED.set(s, q);
  }
  return q;
}

/**
 * A JSON number with the value of `n` (null when not finite). A non-integer that is a whole number of
 * thousandths (the rounded durations) is written from integers: the same value String(n) gives, without
 * the double-to-shortest-decimal conversion.
 */
function num(n: number): string {
  if (Number.isInteger(n)) return String(n);
  if (!Number.isFinite(n)) return "null";
  const thousandths = Math.round(n * 1000);
  if (thousandths / 1000 !== n || thousandths > 0x3fffffff || thousandths < -0x3fffffff) return String(n);
  const sign = thousandths < 0 ? "-" : "";
  const abs = thousandths < 0 ? -thousandths : thousandths;
  let frac = abs % 1000;
  let digits = 3;
  while (frac % 10 === 0) {
    frac /= 10;
    digits--;
  }
  const f = String(frac);
  return `${sign}${(abs - (abs % 1000)) / 1000}.${"00".slice(0, digits - f.length)}${f}`;
}

/** The fields of one request's line (see AccessLogLine), every field present so that lines share one shape. */
export function accessLogLine(
  req: FastifyRequest,
  reply: FastifyReply,
  disconnected: boolean,
): AccessLogLine {
  const status = reply.statusCode;
  const notes = req.gateway?.notes;
  const errorCode = req.errorCode;
  const tp = req.headers.traceparent;
  const trace = typeof tp === "string" ? parseTraceparent(tp) : undefined;
  const line: AccessLogLine = {
    reqId: req.id,
    traceId: trace?.traceId,
    client: req.ip ?? "", // undefined once the socket is gone (a client that left)
    method: req.method,
    route: routeLabel(req),
    path: redactQuery(req.raw.url ?? "/"),
    status,
    grpcCode: errorCode === null ? (status < 400 ? "OK" : codeName(Code.UNKNOWN)) : codeName(errorCode),
    outcome: notes?.outcome,
    backend: notes?.backend,
    attempts: notes?.attempts,
    durationMs: round(reply.elapsedTime),
    upstreamMs: notes?.upstreamMs === undefined ? undefined : round(notes.upstreamMs),
    bytesIn: requestBytes(req),
    bytesOut: responseBytes(reply),
    flags: undefined,
  };
  let flags: string[] | undefined;
  if (disconnected) flags = ["client_disconnected"];
  if (notes) {
    if (notes.outcome === "DEADLINE_EXCEEDED") (flags ??= []).push("upstream_timeout");
    if ((notes.attempts ?? 0) > 1) (flags ??= []).push("retried");
  } else if (status === 429) {
    (flags ??= []).push("rate_limited");
  }
  line.flags = flags;
  return line;
}

/** `/a/b?token=x&y=1` -> `/a/b?token=***&y=***`: names stay (useful), values go (secrets). */
export function redactQuery(url: string): string {
  const q = url.indexOf("?");
  if (q === -1) return url;
  const parts = url.slice(q + 1).split("&");
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const eq = p.indexOf("=");
    parts[i] = eq === -1 ? p : `${p.slice(0, eq)}=***`;
  }
  return `${url.slice(0, q)}?${parts.join("&")}`;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

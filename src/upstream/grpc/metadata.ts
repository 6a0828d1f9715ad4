import type { IncomingHttpHeaders } from "node:http";
import { parseTraceparent, validTracestate } from "../../observability/trace-context.js";
import { Metadata } from "../call-metadata.js";

/**
 * HTTP headers <-> gRPC metadata, following grpc-gateway's conventions:
 * - `Grpc-Metadata-Foo: v` -> `foo: v` (all values kept), `-bin` keys base64-decoded;
 * - `Authorization` -> `authorization`;
 * - `X-Forwarded-For` gets the client address appended, `X-Forwarded-Host` comes from `Host`;
 * - W3C `traceparent` (and `tracestate` with it) when valid; tracing puts its own span's there;
 * - header metadata `k` -> `Grpc-Metadata-K`, trailers -> `Grpc-Trailer-K`.
 * Keys that are invalid, reserved for gRPC itself, or hop-by-hop are dropped, never forwarded.
 */

const PREFIX = "grpc-metadata-";
const VALID_KEY = /^[0-9a-z_.-]+$/;
const PRINTABLE = /^[\x20-\x7e]*$/;
const NEVER_FORWARDED = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-type",
  "content-length",
  "user-agent",
]);
/** Metadata the gRPC transport owns; it never becomes an HTTP header either. */
const TRANSPORT_KEYS = new Set([
  "content-type",
  "date",
  "grpc-status",
  "grpc-message",
  "grpc-status-details-bin",
  "grpc-encoding",
  "grpc-accept-encoding",
]);

/** `rawHeaders` (name, value, name, value...) keeps every value of a repeated header, in order. */
export function requestMetadata(
  headers: IncomingHttpHeaders,
  rawHeaders: readonly string[],
  remoteAddress: string | undefined,
): Metadata {
  const md = new Metadata();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const raw = rawHeaders[i]!;
    if (raw.length <= PREFIX.length || (raw.charCodeAt(0) | 0x20) !== 0x67) continue; // not "g..."
    const name = raw.toLowerCase();
    if (!name.startsWith(PREFIX)) continue;
    const key = name.slice(PREFIX.length);
    if (!VALID_KEY.test(key) || key.startsWith("grpc-") || NEVER_FORWARDED.has(key)) continue;
    addValue(md, key, rawHeaders[i + 1]!);
  }
  const auth = headers.authorization;
  if (auth !== undefined && PRINTABLE.test(auth)) md.add("authorization", auth);
  const forwardedFor = headers["x-forwarded-for"] as string | undefined; // Node joins repeats with ", "
  const chain = forwardedFor
    ? remoteAddress
      ? `${forwardedFor}, ${remoteAddress}`
      : forwardedFor
    : (remoteAddress ?? "");
  if (chain && PRINTABLE.test(chain)) md.set("x-forwarded-for", chain);
  const host = headers["x-forwarded-host"] ?? headers.host;
  if (typeof host === "string" && PRINTABLE.test(host)) md.set("x-forwarded-host", host);
  const traceparent = headers.traceparent;
  if (typeof traceparent === "string" && parseTraceparent(traceparent)) {
    md.set("traceparent", traceparent);
    const tracestate = headers.tracestate;
    if (typeof tracestate === "string" && validTracestate(tracestate)) md.set("tracestate", tracestate);
  }
  return md;
}

function addValue(md: Metadata, key: string, value: string): void {
  if (key.endsWith("-bin")) {
    if (/^[A-Za-z0-9+/_-]*={0,2}$/.test(value.trim())) md.add(key, Buffer.from(value.trim(), "base64"));
  } else if (PRINTABLE.test(value)) {
    md.add(key, value);
  }
}

/** Response headers for the HTTP reply: header metadata and trailers, prefixed. */
export function responseHeaders(
  headerMd: Metadata | undefined,
  trailerMd: Metadata | undefined,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  copy(headerMd, "grpc-metadata-", out);
  copy(trailerMd, "grpc-trailer-", out);
  return out;
}

function copy(md: Metadata | undefined, prefix: string, out: Record<string, string[]>): void {
  if (!md) return;
  for (const [key, values] of md.entries()) {
    if (TRANSPORT_KEYS.has(key)) continue;
    out[prefix + key] = values.map((v) => (typeof v === "string" ? v : v.toString("base64")));
  }
}

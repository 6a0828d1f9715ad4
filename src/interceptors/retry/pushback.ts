import { Code } from "../../errors/code.js";
import { GatewayError } from "../../errors/gateway-error.js";

const PUSHBACK = "grpc-trailer-grpc-retry-pushback-ms";
const RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo";
const DURATION = /^(-?\d+)(?:\.(\d{1,9}))?s$/;

/**
 * What the server asked about retrying a failed call, ms: from the `grpc-retry-pushback-ms` trailer
 * (gRFC A6: a negative or malformed value means "do not retry"), else from a google.rpc.RetryInfo
 * detail (`retryDelay`, a proto3 JSON Duration). `undefined` when the server said nothing;
 * `-1` when it said never.
 */
export function serverPushbackMs(err: GatewayError): number | undefined {
  const raw = err.headers?.[PUSHBACK];
  if (raw !== undefined) {
    const text = Array.isArray(raw) ? raw[0] : raw;
    return text !== undefined && /^\d{1,10}$/.test(text) ? Number(text) : -1;
  }
  for (const d of err.details) {
    if (d["@type"] !== RETRY_INFO || typeof d.retryDelay !== "string") continue;
    const m = DURATION.exec(d.retryDelay);
    if (!m || m[1]!.startsWith("-")) return undefined;
    return Number(m[1]) * 1000 + Number((m[2] ?? "").padEnd(3, "0").slice(0, 3));
  }
  return undefined;
}

/**
 * A 429 or 503 tells the REST client when to come back (`Retry-After`, RFC 9110 section 10.2.3) when
 * the server gave a pushback or RetryInfo and no Retry-After is set yet.
 */
export function withRetryAfter(err: GatewayError): GatewayError {
  if ((err.code !== Code.UNAVAILABLE && err.code !== Code.RESOURCE_EXHAUSTED) || err.headers?.["retry-after"])
    return err;
  const ms = serverPushbackMs(err);
  if (ms === undefined || ms < 0) return err;
  return new GatewayError(err.code, err.message, {
    details: err.details,
    httpStatus: err.httpStatus,
    headers: { ...err.headers, "retry-after": String(Math.max(1, Math.ceil(ms / 1000))) },
    cause: err.cause,
  });
}

import type { GatewayError } from "../../errors/gateway-error.js";

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

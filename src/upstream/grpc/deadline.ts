import { Code } from "../../errors/code.js";
import { GatewayError, invalidArgument } from "../../errors/gateway-error.js";

/** `Grpc-Timeout` as gRPC over HTTP/2 defines it: 1-8 digits and a unit (H, M, S, m, u, n). */
const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };
const GRPC_TIMEOUT = /^(\d{1,8})([HMSmun])$/;

/**
 * The call's timeout in ms: the `Grpc-Timeout` header if given, capped by `maxMs` (0 = no cap), else
 * the route's default (0 = none).
 *
 * A client may shorten a deadline, not stretch it past the route's maximum (by default the route's own
 * timeout): `99999999H` would otherwise hold a backend call for centuries.
 *
 * @throws GatewayError INVALID_ARGUMENT (400) for a header that is not a gRPC timeout.
 * @throws GatewayError DEADLINE_EXCEEDED (504) for a zero timeout (`0S`, `0n`): the deadline has
 *   passed already, so nothing may be sent (gRPC over HTTP/2: a timeout is the time left, not "none").
 */
export function timeoutMs(
  header: string | string[] | undefined,
  routeDefaultMs: number,
  maxMs: number = routeDefaultMs,
): number {
  if (header === undefined) return routeDefaultMs;
  const value = Array.isArray(header) ? header[0]! : header;
  const m = GRPC_TIMEOUT.exec(value.trim());
  if (!m)
    throw invalidArgument(
      `invalid Grpc-Timeout header "${value}": expected 1-8 digits and one of H, M, S, m, u, n`,
    );
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  if (ms === 0)
    throw new GatewayError(
      Code.DEADLINE_EXCEEDED,
      `Grpc-Timeout "${value}": the deadline has already passed`,
    );
  return maxMs > 0 && ms > maxMs ? maxMs : ms;
}

/** The other way, for the call upstream: at most 8 digits, in the finest unit that fits. */
export function grpcTimeout(ms: number): string {
  if (ms < 1) return `${Math.max(1, Math.round(ms * 1000))}u`;
  const whole = Math.ceil(ms);
  if (whole <= 99_999_999) return `${whole}m`;
  const s = Math.ceil(ms / 1000);
  return s <= 99_999_999 ? `${s}S` : `${Math.min(99_999_999, Math.ceil(s / 3600))}H`;
}

/**
 * grpc-timeout texts by ms. Routes' deadlines repeat: one string per value is built once, and its
 * hash is computed once for the header run it keys (see wire.ts encodeRequestHeaders).
 */
const timeoutTexts = new Map<number, string>();

/** grpcTimeout(ms), cached: the same string object for the same value. */
export function grpcTimeoutText(ms: number): string {
  let text = timeoutTexts.get(ms);
  if (text === undefined) {
    if (timeoutTexts.size >= 256) timeoutTexts.clear(); // client-chosen deadlines vary: stay bounded
    text = grpcTimeout(ms);
    timeoutTexts.set(ms, text);
  }
  return text;
}

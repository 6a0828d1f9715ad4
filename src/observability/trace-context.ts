/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) header checks, without the SDK: the gateway
 * forwards a client's `traceparent`/`tracestate` to backends even when tracing is off, but only valid
 * ones (a malformed header is dropped, as §3.2.2 says a vendor must).
 */

// version 00: "00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>"; later versions may append fields.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = "00000000000000000000000000000000";
const ZERO_SPAN = "0000000000000000";
// list-member = key "=" value; key: lowercase simple or multi-tenant "tenant@system"; value: printable, no "," or "=".
const TRACESTATE_MEMBER =
  /^([a-z][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/** A parsed `traceparent`. */
export interface TraceParent {
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  /** 16 lowercase hex digits: the caller's span. */
  readonly spanId: string;
  /** Trace flags; bit 0 is "sampled". */
  readonly flags: number;
}

/**
 * Parses a `traceparent` header; undefined when invalid: not lowercase hex, version ff, an all-zero
 * trace or parent id, or extra fields on version 00 (W3C Trace Context §3.2).
 */
export function parseTraceparent(header: string): TraceParent | undefined {
  const m = TRACEPARENT.exec(header);
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId: traceId!, spanId: spanId!, flags: Number.parseInt(flags!, 16) };
}

/** `00-<trace>-<span>-<flags>`. */
export function formatTraceparent(traceId: string, spanId: string, flags: number): string {
  return `00-${traceId}-${spanId}-${flags & 1 ? "01" : "00"}`;
}

/**
 * A `tracestate` header as it may be forwarded: at most 32 valid list members (§3.3); undefined when
 * any member is malformed (the whole header is then dropped). Empty members (",,") are allowed.
 */
export function validTracestate(header: string): string | undefined {
  if (header.length > 8192) return undefined;
  let members = 0;
  for (const part of header.split(",")) {
    const member = part.trim();
    if (member === "") continue;
    if (++members > 32 || !TRACESTATE_MEMBER.test(member)) return undefined;
  }
  return members === 0 ? undefined : header;
}

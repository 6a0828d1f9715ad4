import { JsonMappingError, type Msg } from "./msg.js";

/** google.protobuf.Timestamp and Duration in their JSON string forms. */

// Every valid value is far below 2^53, so plain numbers are exact here.
const MIN_SECONDS = -62135596800; // 0001-01-01T00:00:00Z
const MAX_SECONDS = 253402300799; // 9999-12-31T23:59:59Z
const MAX_DURATION = 315576000000;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;
const DURATION = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;

export function parseTimestamp(s: string, path: string): Msg {
  const m = TIMESTAMP.exec(s);
  if (!m) throw new JsonMappingError(path, `"${s}" is not an RFC 3339 timestamp`);
  const [, y, mo, d, h, mi, se, frac, zone] = m as unknown as string[];
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(se) > 59
  ) {
    throw new JsonMappingError(path, `"${s}" is not a valid date and time`);
  }
  let offset = 0;
  if (zone !== "Z") {
    const sign = zone![0] === "-" ? -1 : 1;
    offset = sign * (Number(zone!.slice(1, 3)) * 3600 + Number(zone!.slice(4, 6)) * 60);
  }
  const seconds =
    daysFromCivil(year, month, day) * 86400 + Number(h) * 3600 + Number(mi) * 60 + Number(se) - offset;
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS)
    throw new JsonMappingError(path, `"${s}" is out of range`);
  return { seconds, nanos: fractionToNanos(frac) };
}

export function formatTimestamp(msg: Msg): string {
  const raw = (msg.seconds as number | bigint | undefined) ?? 0;
  const nanos = (msg.nanos as number | undefined) ?? 0;
  if (raw < MIN_SECONDS || raw > MAX_SECONDS || nanos < 0 || nanos > 999999999) {
    throw new JsonMappingError("", "google.protobuf.Timestamp out of range");
  }
  const seconds = Number(raw);
  const days = Math.floor(seconds / 86400);
  const rem = seconds - days * 86400;
  const { year, month, day } = civilFromDays(days);
  const hh = Math.floor(rem / 3600);
  const mm = Math.floor((rem % 3600) / 60);
  const ss = rem % 60;
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hh, 2)}:${pad(mm, 2)}:${pad(ss, 2)}${fraction(nanos)}Z`;
}

export function parseDuration(s: string, path: string): Msg {
  const m = DURATION.exec(s);
  if (!m) throw new JsonMappingError(path, `"${s}" is not a duration such as "1.5s"`);
  const sign = m[1] ? -1 : 1;
  const seconds = Number(m[2]!);
  if (seconds > MAX_DURATION) throw new JsonMappingError(path, `"${s}" is out of range`);
  const nanos = fractionToNanos(m[3]);
  return { seconds: sign < 0 ? -seconds : seconds, nanos: sign < 0 && nanos !== 0 ? -nanos : nanos };
}

export function formatDuration(msg: Msg): string {
  const raw = (msg.seconds as number | bigint | undefined) ?? 0;
  const nanos = (msg.nanos as number | undefined) ?? 0;
  if (
    raw > MAX_DURATION ||
    raw < -MAX_DURATION ||
    Math.abs(nanos) > 999999999 ||
    (raw > 0 && nanos < 0) ||
    (raw < 0 && nanos > 0)
  ) {
    throw new JsonMappingError("", "google.protobuf.Duration out of range");
  }
  const seconds = Number(raw);
  const negative = seconds < 0 || nanos < 0;
  return `${negative ? "-" : ""}${Math.abs(seconds)}${fraction(Math.abs(nanos))}s`;
}

function fractionToNanos(frac: string | undefined): number {
  return frac ? Number(frac.padEnd(9, "0")) : 0;
}

/** 0, 3, 6 or 9 fractional digits, as the mapping prints them. */
function fraction(nanos: number): string {
  if (nanos === 0) return "";
  if (nanos % 1000000 === 0) return `.${pad(nanos / 1000000, 3)}`;
  if (nanos % 1000 === 0) return `.${pad(nanos / 1000, 6)}`;
  return `.${pad(nanos, 9)}`;
}

const pad = (n: number, width: number): string => String(n).padStart(width, "0");

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

// Howard Hinnant's days-from-civil algorithms: exact for the whole proleptic Gregorian range.
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(z: number): { year: number; month: number; day: number } {
  const zz = z + 719468;
  const era = Math.floor(zz / 146097);
  const doe = zz - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

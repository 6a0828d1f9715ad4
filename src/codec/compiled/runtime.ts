import type protobuf from "protobufjs";
import { encodeBase64 } from "../base64.js";
import { enumFromJson, mapKeyFromJson, scalarFromJson, scalarToJson } from "../json-scalars.js";
import type { EnumInfo, ScalarType } from "../message-info.js";
import { at, JsonMappingError, putEntry } from "../msg.js";

/**
 * What generated codecs call: the slow paths of conversions (shared with the reflective code, so each
 * rule lives in one place), error builders that compute a field's path only when they throw, and 64-bit
 * integer reads/writes that avoid allocating a Long per value.
 */

import { MAX_DEPTH } from "../options.js";

/** A child's path, for nested messages (their errors name the full path). */
export { at, MAX_DEPTH, putEntry };

// Conversions run with an empty path; only when one fails is the error re-labelled with the real path,
// so that the common case builds no path string.
function relabel(
  err: unknown,
  path: string,
  key: string | undefined,
  index: number | string | undefined,
): unknown {
  return err instanceof JsonMappingError ? new JsonMappingError(at(path, key, index), err.reason) : err;
}

export function scalar(type: ScalarType, v: unknown, path: string, key?: string, index?: number | string) {
  try {
    return scalarFromJson(type, v, "");
  } catch (err) {
    throw relabel(err, path, key, index);
  }
}

export function enumValue(
  e: EnumInfo,
  v: unknown,
  path: string,
  key?: string,
  index?: number | string,
): number {
  if (typeof v === "string") {
    const n = e.byName.get(v);
    if (n !== undefined) return n;
  }
  try {
    return enumFromJson(e, v, "");
  } catch (err) {
    throw relabel(err, path, key, index);
  }
}

export function mapKey(type: ScalarType, k: string, path: string, key: string) {
  try {
    return mapKeyFromJson(type, k, "");
  } catch (err) {
    throw relabel(err, path, key, k);
  }
}

export const notObject = (path: string, what: string) =>
  new JsonMappingError(path, `expected a JSON object for ${what}`);
export const notArray = (path: string, key: string) =>
  new JsonMappingError(at(path, key), "expected a JSON array");
export const notMap = (path: string, key: string) =>
  new JsonMappingError(at(path, key), "expected a JSON object for a map");
export const nullItem = (path: string, key: string, i: number) =>
  new JsonMappingError(at(path, key, i), "array items cannot be null");
export const nullValue = (path: string, key: string, k: string) =>
  new JsonMappingError(at(path, key, k), "map values cannot be null");
export const tooDeep = (path: string) =>
  new JsonMappingError(path, `nested more than ${MAX_DEPTH} levels deep`);
export const unknownField = (path: string, key: string, message: string) =>
  new JsonMappingError(path, `unknown field "${key}" in ${message}`);
export const givenTwice = (path: string, key: string) =>
  new JsonMappingError(at(path, key), "field given twice (by proto and JSON name)");
export const duplicateKey = (path: string, key: string, k: string) =>
  new JsonMappingError(at(path, key, k), "map key given twice");
export const oneofTaken = (path: string, key: string, oneof: string, other: string) =>
  new JsonMappingError(at(path, key), `oneof "${oneof}" already has "${other}" set`);

// ---- output ----

export const float = (v: number): unknown => scalarToJson("float", v);
export const double = (v: number): unknown => scalarToJson("double", v);
export const bytes = (v: Uint8Array): string => encodeBase64(v);
export const enumName = (e: EnumInfo, n: number): unknown => e.byNumber.get(n) ?? n;

// ---- 64-bit integers: number while safe, bigint beyond ----

const TWO_32 = 4294967296;

/** {low, high} for protobufjs's writer; two's complement covers negatives. */
function bits(v: bigint): protobuf.Long {
  return {
    low: Number(v & 0xffffffffn) | 0,
    high: Number((v >> 32n) & 0xffffffffn) | 0,
    unsigned: false,
  } as protobuf.Long;
}

export function writeInt64(w: protobuf.Writer, v: number | bigint): void {
  if (typeof v === "number") w.int64(v);
  else w.int64(bits(v));
}
export function writeSint64(w: protobuf.Writer, v: number | bigint): void {
  if (typeof v === "number") w.sint64(v);
  else w.sint64(bits(v));
}
export function writeFixed64(w: protobuf.Writer, v: number | bigint): void {
  if (typeof v === "number") w.fixed64(v);
  else w.fixed64(bits(v));
}

/** A 64-bit value from its two 32-bit halves, as a number when exact. */
function fromHalves(lo: number, hi: number, signed: boolean): number | bigint {
  if (signed && hi & 0x80000000) {
    // negative: exact as a number when the magnitude is below 2^53
    if (hi >= 0xffe00000) return (hi - TWO_32) * TWO_32 + lo;
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
  }
  if (hi < 0x200000) return hi * TWO_32 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

interface RawReader {
  buf: Uint8Array;
  pos: number;
  len: number;
}

// The halves of the last 64-bit value read: module-level scratch, so that no array or Long is allocated.
let LO = 0;
let HI = 0;

/** Reads a varint into LO/HI (protobufjs's algorithm, without a LongBits object). */
function readVarint64(r: RawReader): void {
  const buf = r.buf;
  let lo = 0;
  let hi = 0;
  let i = 0;
  let b: number;
  for (; i < 4; i++) {
    if (r.pos >= r.len) throw new RangeError("index out of range");
    b = buf[r.pos++]!;
    lo = (lo | ((b & 127) << (i * 7))) >>> 0;
    if (b < 128) {
      LO = lo;
      HI = 0;
      return;
    }
  }
  if (r.pos >= r.len) throw new RangeError("index out of range");
  b = buf[r.pos++]!;
  lo = (lo | ((b & 127) << 28)) >>> 0;
  hi = (hi | ((b & 127) >> 4)) >>> 0;
  if (b < 128) {
    LO = lo;
    HI = hi;
    return;
  }
  for (i = 0; i < 5; i++) {
    if (r.pos >= r.len) throw new RangeError("index out of range");
    b = buf[r.pos++]!;
    hi = (hi | ((b & 127) << (i * 7 + 3))) >>> 0;
    if (b < 128) {
      LO = lo;
      HI = hi;
      return;
    }
  }
  throw new RangeError("invalid varint encoding");
}

export function readInt64(r: protobuf.Reader): number | bigint {
  readVarint64(r as unknown as RawReader);
  return fromHalves(LO, HI, true);
}
export function readUint64(r: protobuf.Reader): number | bigint {
  readVarint64(r as unknown as RawReader);
  return fromHalves(LO, HI, false);
}
export function readSint64(r: protobuf.Reader): number | bigint {
  readVarint64(r as unknown as RawReader);
  // zigzag decode on the halves
  const mask = -(LO & 1);
  const lo = (((LO >>> 1) | (HI << 31)) ^ mask) >>> 0;
  const hi = ((HI >>> 1) ^ mask) >>> 0;
  return fromHalves(lo, hi, true);
}
function readFixedHalves(r: RawReader): void {
  if (r.pos + 8 > r.len) throw new RangeError("index out of range");
  const b = r.buf;
  const p = r.pos;
  r.pos += 8;
  LO = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  HI = (b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24)) >>> 0;
}
export function readFixed64(r: protobuf.Reader): number | bigint {
  readFixedHalves(r as unknown as RawReader);
  return fromHalves(LO, HI, false);
}
export function readSfixed64(r: protobuf.Reader): number | bigint {
  readFixedHalves(r as unknown as RawReader);
  return fromHalves(LO, HI, true);
}

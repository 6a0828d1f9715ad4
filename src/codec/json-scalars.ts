import { decodeBase64, encodeBase64 } from "./base64.js";
import type { EnumInfo, ScalarType } from "./message-info.js";
import { JsonMappingError } from "./msg.js";

/** Conversions between proto3 JSON values and the codec's scalar values, in both directions. */

const INT32 = { min: -2147483648, max: 2147483647 };
const UINT32 = { min: 0, max: 4294967295 };
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };
const UINT64 = { min: 0n, max: 2n ** 64n - 1n };
const INTEGER = /^-?(0|[1-9][0-9]*)$/;
// A JSON number written as a string, exponents allowed ("1e3" is the integer 1000).
const NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

export function scalarFromJson(
  type: ScalarType,
  v: unknown,
  path: string,
): number | bigint | boolean | string | Uint8Array {
  switch (type) {
    case "string":
      if (typeof v !== "string") throw wrongType(path, "a string", v);
      return v;
    case "bool":
      if (typeof v !== "boolean") throw wrongType(path, "true or false", v);
      return v;
    case "bytes": {
      if (typeof v !== "string") throw wrongType(path, "a base64 string", v);
      const bytes = decodeBase64(v);
      if (!bytes) throw new JsonMappingError(path, "not valid base64");
      return bytes;
    }
    case "double":
    case "float":
      return floatFromJson(type, v, path);
    case "int32":
    case "sint32":
    case "sfixed32":
      return int32FromJson(v, path, INT32);
    case "uint32":
    case "fixed32":
      return int32FromJson(v, path, UINT32);
    case "int64":
    case "sint64":
    case "sfixed64":
      return int64FromJson(v, path, INT64);
    case "uint64":
    case "fixed64":
      return int64FromJson(v, path, UINT64);
  }
}

function floatFromJson(type: "float" | "double", v: unknown, path: string): number {
  let n: number;
  if (typeof v === "number") n = v;
  else if (typeof v === "string") {
    if (v === "NaN") return Number.NaN;
    if (v === "Infinity") return Number.POSITIVE_INFINITY;
    if (v === "-Infinity") return Number.NEGATIVE_INFINITY;
    if (!NUMBER.test(v)) throw new JsonMappingError(path, `"${v}" is not a number`);
    n = Number(v);
  } else throw wrongType(path, "a number", v);
  if (!Number.isFinite(n)) throw new JsonMappingError(path, "number out of range");
  // In range if it rounds to a finite float32 (FLT_MAX printed shortest, 3.40282347e38, is a bit above it).
  if (type === "float" && !Number.isFinite(Math.fround(n)))
    throw new JsonMappingError(path, "out of range for float");
  return n;
}

function int32FromJson(v: unknown, path: string, range: { min: number; max: number }): number {
  const n = numberOf(v, path);
  if (!Number.isInteger(n)) throw new JsonMappingError(path, `${String(v)} is not an integer`);
  if (n < range.min || n > range.max) throw new JsonMappingError(path, `${String(v)} is out of range`);
  return n;
}

/**
 * 64-bit integers are JS numbers while exactly representable (most ids and counts), bigints beyond:
 * cheaper than a bigint for every value, exact for all.
 */
function int64FromJson(v: unknown, path: string, range: { min: bigint; max: bigint }): number | bigint {
  let n: number | bigint;
  if (typeof v === "string" && INTEGER.test(v)) n = v.length <= 15 ? Number(v) : BigInt(v);
  else {
    const f = numberOf(v, path);
    if (!Number.isInteger(f)) throw new JsonMappingError(path, `${String(v)} is not an integer`);
    n = Number.isSafeInteger(f) ? f : BigInt(f);
  }
  if (n < range.min || n > range.max) throw new JsonMappingError(path, `${String(v)} is out of range`);
  return typeof n === "bigint" && n >= MIN_SAFE && n <= MAX_SAFE ? Number(n) : n;
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function numberOf(v: unknown, path: string): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    if (!NUMBER.test(v)) throw new JsonMappingError(path, `"${v}" is not a number`);
    return Number(v);
  }
  throw wrongType(path, "a number", v);
}

export function enumFromJson(e: EnumInfo, v: unknown, path: string): number {
  if (typeof v === "string") {
    const n = e.byName.get(v);
    if (n === undefined) throw new JsonMappingError(path, `"${v}" is not a value of enum ${e.fullName}`);
    return n;
  }
  if (v === null && e.isNullValue) return 0;
  if (typeof v === "number" && Number.isInteger(v) && v >= INT32.min && v <= INT32.max) return v; // open enums
  throw wrongType(path, `a name of enum ${e.fullName} or an integer`, v);
}

export function scalarToJson(type: ScalarType, v: unknown): unknown {
  switch (type) {
    case "int64":
    case "sint64":
    case "sfixed64":
    case "uint64":
    case "fixed64":
      return String(v);
    case "bytes":
      return encodeBase64(v as Uint8Array);
    case "double":
      return nonFinite(v as number) ?? v;
    case "float":
      return nonFinite(v as number) ?? shortestFloat32(v as number);
    default:
      return v;
  }
}

export function enumToJson(e: EnumInfo, n: number, asNumber: boolean): unknown {
  if (e.isNullValue) return null;
  if (asNumber) return n;
  return e.byNumber.get(n) ?? n;
}

function nonFinite(n: number): string | undefined {
  if (Number.isNaN(n)) return "NaN";
  if (n === Number.POSITIVE_INFINITY) return "Infinity";
  if (n === Number.NEGATIVE_INFINITY) return "-Infinity";
  return undefined;
}

/** A float read off the wire is a float32 widened to double; print the shortest decimal that is the same float32. */
function shortestFloat32(n: number): number {
  if (n === 0) return n; // keeps -0
  for (let p = 1; p < 10; p++) {
    const candidate = Number(n.toPrecision(p));
    if (Math.fround(candidate) === n) return candidate;
  }
  return n;
}

export function defaultScalar(type: ScalarType): number | bigint | boolean | string | Uint8Array {
  switch (type) {
    case "string":
      return "";
    case "bool":
      return false;
    case "bytes":
      return new Uint8Array(0);
    default:
      return 0;
  }
}

/** Map keys arrive as JSON object keys (strings); convert them to the key's scalar type. */
export function mapKeyFromJson(
  type: ScalarType,
  key: string,
  path: string,
): string | number | bigint | boolean {
  if (type === "string") return key;
  if (type === "bool") {
    if (key === "true") return true;
    if (key === "false") return false;
    throw new JsonMappingError(path, `map key "${key}" is not true or false`);
  }
  if (!INTEGER.test(key)) throw new JsonMappingError(path, `map key "${key}" is not an integer`);
  return scalarFromJson(type, key, path) as number | bigint;
}

function wrongType(path: string, expected: string, v: unknown): JsonMappingError {
  const got =
    v === null
      ? "null"
      : Array.isArray(v)
        ? "an array"
        : typeof v === "object"
          ? "an object"
          : JSON.stringify(v);
  return new JsonMappingError(path, `expected ${expected}, got ${got}`);
}

import { defaultScalar, scalarFromJson } from "./json-scalars.js";
import type { Element, MessageInfo, ScalarType } from "./message-info.js";
import { type FieldValue, JsonMappingError, type Msg, type MsgMap, putEntry } from "./msg.js";
import { type JsonReadOptions, type JsonWriteOptions, MAX_DEPTH } from "./options.js";
import { formatDuration, formatTimestamp, parseDuration, parseTimestamp } from "./time.js";

/**
 * The codec entry points the well-known types recurse into (an Any's message, a wrapper's value),
 * handed in by compiled/codecs.ts when it loads: this file imports no codec, so there is no cycle.
 */
export interface WktRecursion {
  fromJson(info: MessageInfo, json: unknown, path: string, opts: JsonReadOptions, depth: number): Msg;
  toJson(info: MessageInfo, msg: Msg, opts: JsonWriteOptions): unknown;
  elementToJson(e: Element, v: FieldValue, opts: JsonWriteOptions): unknown;
  encode(info: MessageInfo, msg: Msg): Uint8Array;
  /** Throws WireFormatError for bytes that do not decode. */
  decode(info: MessageInfo, bytes: Uint8Array): Msg;
}

let rec: WktRecursion;

/** Called once by compiled/codecs.ts. */
export function setWktRecursion(r: WktRecursion): void {
  rec = r;
}

/** The well-known types that have their own JSON form. */

const TYPE_URL_PREFIX = "type.googleapis.com/";

export function wktFromJson(
  info: MessageInfo,
  json: unknown,
  path: string,
  opts: JsonReadOptions,
  depth = 0,
): Msg {
  // Counted here for every kind: an Any holding an Any recurses through this function only.
  if (depth > MAX_DEPTH) throw new JsonMappingError(path, `nested more than ${MAX_DEPTH} levels deep`);
  switch (info.wkt) {
    case "Timestamp":
      return parseTimestamp(expectString(json, path, "an RFC 3339 timestamp"), path);
    case "Duration":
      return parseDuration(expectString(json, path, 'a duration such as "1.5s"'), path);
    case "FieldMask":
      return { paths: fieldMaskFromJson(expectString(json, path, 'a field mask such as "a,b.c"'), path) };
    case "Wrapper": {
      const value = info.byName.get("value")!;
      return { value: scalarFromJson((value.element as { scalar: ScalarType }).scalar, json, path) }; // wrappers hold a scalar
    }
    case "Struct":
      return structFromJson(json, path, depth);
    case "Value":
      return valueFromJson(json, path, depth);
    case "ListValue":
      if (!Array.isArray(json)) throw new JsonMappingError(path, "expected a JSON array");
      return listFromJson(json, path, depth);
    case "Any":
      return anyFromJson(json, path, opts, depth);
    default: // Empty: an object with no fields
      return emptyFromJson(json, path, opts);
  }
}

export function wktToJson(info: MessageInfo, msg: Msg, opts: JsonWriteOptions): unknown {
  switch (info.wkt) {
    case "Timestamp":
      return formatTimestamp(msg);
    case "Duration":
      return formatDuration(msg);
    case "FieldMask":
      return ((msg.paths as string[] | undefined) ?? []).map(fieldMaskPathToJson).join(",");
    case "Wrapper": {
      const value = info.byName.get("value")!;
      const fallback = value.element.kind === "scalar" ? defaultScalar(value.element.scalar) : 0;
      return rec.elementToJson(value.element, msg.value ?? fallback, opts);
    }
    case "Struct":
      return structToJson(msg);
    case "Value":
      return valueToJson(msg);
    case "ListValue":
      return ((msg.values as Msg[] | undefined) ?? []).map(valueToJson);
    case "Any":
      return anyToJson(msg, opts);
    default:
      return {};
  }
}

function expectString(json: unknown, path: string, what: string): string {
  if (typeof json !== "string") throw new JsonMappingError(path, `expected ${what}`);
  return json;
}

function emptyFromJson(json: unknown, path: string, opts: JsonReadOptions): Msg {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new JsonMappingError(path, "expected a JSON object for google.protobuf.Empty");
  }
  const key = Object.keys(json)[0];
  if (key !== undefined && !opts.ignoreUnknownFields) {
    throw new JsonMappingError(path, `unknown field "${key}" in google.protobuf.Empty`);
  }
  return {};
}

// FieldMask: JSON uses lowerCamel paths joined by commas; the message holds snake_case paths.
function fieldMaskFromJson(s: string, path: string): string[] {
  if (s === "") return [];
  return s.split(",").map((p) => {
    if (p.includes("_") || !/^[A-Za-z0-9.]+$/.test(p))
      throw new JsonMappingError(path, `invalid field mask path "${p}"`);
    return p.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  });
}

function fieldMaskPathToJson(p: string): string {
  if (/[A-Z]/.test(p) || /_(?![a-z])/.test(p)) {
    throw new JsonMappingError("", `field mask path "${p}" has no JSON form`);
  }
  return p.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

// Struct, Value and ListValue mirror arbitrary JSON.
function structFromJson(json: unknown, path: string, depth: number): Msg {
  if (depth > MAX_DEPTH) throw new JsonMappingError(path, `nested more than ${MAX_DEPTH} levels deep`);
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new JsonMappingError(path, "expected a JSON object");
  }
  const fields: MsgMap = new Map();
  for (const [k, v] of Object.entries(json)) fields.set(k, valueFromJson(v, `${path}.${k}`, depth + 1));
  return { fields };
}

// Depth counts message levels as the wire nests them (backends limit those): a Value and the Struct or
// ListValue it holds are two levels, each checked.
function listFromJson(json: unknown[], path: string, depth: number): Msg {
  if (depth > MAX_DEPTH) throw new JsonMappingError(path, `nested more than ${MAX_DEPTH} levels deep`);
  return { values: json.map((v, i) => valueFromJson(v, `${path}[${i}]`, depth + 1)) };
}

function valueFromJson(json: unknown, path: string, depth: number): Msg {
  if (depth > MAX_DEPTH) throw new JsonMappingError(path, `nested more than ${MAX_DEPTH} levels deep`);
  switch (typeof json) {
    case "number":
      // JSON has no Infinity: JSON.parse gives it for an overflowing literal such as 1e400.
      if (!Number.isFinite(json)) throw new JsonMappingError(path, "number out of range");
      return { number_value: json };
    case "string":
      return { string_value: json };
    case "boolean":
      return { bool_value: json };
    case "object":
      if (json === null) return { null_value: 0 };
      if (Array.isArray(json)) return { list_value: listFromJson(json, path, depth + 1) };
      return { struct_value: structFromJson(json, path, depth + 1) };
    default:
      throw new JsonMappingError(path, "not a JSON value");
  }
}

function structToJson(msg: Msg): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of (msg.fields as MsgMap | undefined) ?? [])
    putEntry(out, String(k), valueToJson(v as Msg));
  return out;
}

function valueToJson(msg: Msg): unknown {
  if (msg.null_value !== undefined) return null;
  if (msg.number_value !== undefined) {
    const n = msg.number_value as number;
    if (!Number.isFinite(n))
      throw new JsonMappingError("", "google.protobuf.Value cannot hold NaN or Infinity in JSON");
    return n;
  }
  if (msg.string_value !== undefined) return msg.string_value;
  if (msg.bool_value !== undefined) return msg.bool_value;
  if (msg.struct_value !== undefined) return structToJson(msg.struct_value as Msg);
  if (msg.list_value !== undefined)
    return ((msg.list_value as Msg).values as Msg[] | undefined)?.map(valueToJson) ?? [];
  throw new JsonMappingError("", "google.protobuf.Value has no kind set");
}

// Any: {"@type": url, ...fields} or, for a WKT, {"@type": url, "value": <its JSON>}.
function anyFromJson(json: unknown, path: string, opts: JsonReadOptions, depth: number): Msg {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new JsonMappingError(path, "expected a JSON object for google.protobuf.Any");
  }
  const { "@type": typeUrl, ...rest } = json as Record<string, unknown>;
  if (typeUrl === undefined && Object.keys(rest).length === 0) return {};
  if (typeof typeUrl !== "string") throw new JsonMappingError(path, '"@type" is missing');
  const inner = opts.resolve(typeUrl.slice(typeUrl.lastIndexOf("/") + 1));
  if (!inner) throw new JsonMappingError(path, `unknown type "${typeUrl}" in "@type"`);
  const msg = inner.wkt
    ? wktFromJson(inner, rest.value, `${path}.value`, opts, depth + 1)
    : rec.fromJson(inner, rest, path, opts, depth + 1);
  if (inner.wkt && Object.keys(rest).some((k) => k !== "value")) {
    throw new JsonMappingError(path, `an Any holding ${inner.fullName} takes only "@type" and "value"`);
  }
  return { type_url: typeUrl, value: rec.encode(inner, msg) };
}

/**
 * How many Any are being rendered one inside the other. Rendering is synchronous, so a module-level
 * count is exact; each Any decodes its value afresh, so the binary decoder's own depth starts over.
 */
let anyNesting = 0;

function anyToJson(msg: Msg, opts: JsonWriteOptions): unknown {
  const typeUrl = (msg.type_url as string | undefined) ?? "";
  const value = (msg.value as Uint8Array | undefined) ?? new Uint8Array(0);
  if (typeUrl === "" && value.length === 0) return {};
  const inner = opts.resolve(typeUrl.slice(typeUrl.lastIndexOf("/") + 1));
  if (!inner)
    throw new JsonMappingError("", `cannot render google.protobuf.Any of unknown type "${typeUrl}"`);
  if (anyNesting >= MAX_DEPTH)
    throw new JsonMappingError("", `google.protobuf.Any nested more than ${MAX_DEPTH} levels deep`);
  anyNesting++;
  try {
    const decoded = rec.decode(inner, value);
    if (inner.wkt) return { "@type": typeUrl, value: wktToJson(inner, decoded, opts) };
    return { "@type": typeUrl, ...(rec.toJson(inner, decoded, opts) as object) };
  } finally {
    anyNesting--;
  }
}

export const typeUrlOf = (fullName: string): string => TYPE_URL_PREFIX + fullName;

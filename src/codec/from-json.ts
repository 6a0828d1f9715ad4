import { enumFromJson, mapKeyFromJson, scalarFromJson } from "./json-scalars.js";
import type { Element, FieldInfo, MessageInfo } from "./message-info.js";
import { type FieldValue, fieldPath, JsonMappingError, type Msg } from "./msg.js";
import { wktFromJson } from "./wkt.js";

/** proto3 JSON -> Msg. https://protobuf.dev/programming-guides/json/ */

export interface JsonReadOptions {
  /** Drop fields the message does not declare instead of rejecting them (the mapping's default is reject). */
  readonly ignoreUnknownFields: boolean;
  /** Finds a message type by full name, for google.protobuf.Any. */
  readonly resolve: (fullName: string) => MessageInfo | undefined;
}

/** Deeper nesting is refused, as protobuf's own parsers do (a stack overflow would be a 500). */
export const MAX_DEPTH = 100;

export function messageFromJson(
  info: MessageInfo,
  json: unknown,
  path: string,
  opts: JsonReadOptions,
  depth = 0,
): Msg {
  if (depth > MAX_DEPTH) throw new JsonMappingError(path, `nested more than ${MAX_DEPTH} levels deep`);
  if (info.wkt) return wktFromJson(info, json, path, opts, depth);
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new JsonMappingError(path, `expected a JSON object for ${info.fullName}`);
  }
  const msg: Msg = {};
  const oneofSet = new Map<string, string>();
  for (const key of Object.keys(json)) {
    const field = info.byName.get(key);
    const childPath = fieldPath(path, key);
    if (!field) {
      if (opts.ignoreUnknownFields) continue;
      throw new JsonMappingError(path, `unknown field "${key}" in ${info.fullName}`);
    }
    if (field.name in msg)
      throw new JsonMappingError(childPath, "field given twice (by proto and JSON name)");
    const v = (json as Record<string, unknown>)[key];
    if (v === null && !acceptsNull(field)) continue; // null means "not set"
    if (field.oneof) {
      const other = oneofSet.get(field.oneof);
      if (other) throw new JsonMappingError(childPath, `oneof "${field.oneof}" already has "${other}" set`);
      oneofSet.set(field.oneof, key);
    }
    msg[field.name] = fieldFromJson(field, v, childPath, opts, depth);
  }
  return msg;
}

/** Only google.protobuf.Value and NullValue take null as a value; elsewhere null means unset. */
function acceptsNull(f: FieldInfo): boolean {
  if (f.repeated) return false;
  const e = f.element;
  return (e.kind === "enum" && e.enum.isNullValue) || (e.kind === "message" && e.message().wkt === "Value");
}

export function fieldFromJson(
  field: FieldInfo,
  v: unknown,
  path: string,
  opts: JsonReadOptions,
  depth = 0,
): FieldValue {
  if (field.mapKey) {
    if (typeof v !== "object" || v === null || Array.isArray(v))
      throw new JsonMappingError(path, "expected a JSON object for a map");
    const map = new Map<string | number | bigint | boolean, FieldValue>();
    for (const [k, item] of Object.entries(v)) {
      const itemPath = `${path}["${k}"]`;
      if (item === null && !elementAcceptsNull(field.element))
        throw new JsonMappingError(itemPath, "map values cannot be null");
      map.set(
        mapKeyFromJson(field.mapKey, k, itemPath),
        elementFromJson(field.element, item, itemPath, opts, depth),
      );
    }
    return map;
  }
  if (field.repeated) {
    if (!Array.isArray(v)) throw new JsonMappingError(path, "expected a JSON array");
    return v.map((item, i) => {
      const itemPath = `${path}[${i}]`;
      if (item === null && !elementAcceptsNull(field.element))
        throw new JsonMappingError(itemPath, "array items cannot be null");
      return elementFromJson(field.element, item, itemPath, opts, depth);
    });
  }
  return elementFromJson(field.element, v, path, opts, depth);
}

function elementAcceptsNull(e: Element): boolean {
  return e.kind === "message" && e.message().wkt === "Value";
}

export function elementFromJson(
  e: Element,
  v: unknown,
  path: string,
  opts: JsonReadOptions,
  depth = 0,
): FieldValue {
  switch (e.kind) {
    case "scalar":
      return scalarFromJson(e.scalar, v, path);
    case "enum":
      return enumFromJson(e.enum, v, path);
    case "message":
      return messageFromJson(e.message(), v, path, opts, depth + 1);
  }
}

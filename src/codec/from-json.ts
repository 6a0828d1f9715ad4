import { codecOf } from "./compiled/codecs.js";
import { enumFromJson, mapKeyFromJson, scalarFromJson } from "./json-scalars.js";
import type { Element, FieldInfo, MessageInfo } from "./message-info.js";
import { type FieldValue, JsonMappingError, type Msg } from "./msg.js";

/** proto3 JSON -> Msg. https://protobuf.dev/programming-guides/json/ */

export interface JsonReadOptions {
  /** Drop fields the message does not declare instead of rejecting them (the mapping's default is reject). */
  readonly ignoreUnknownFields: boolean;
  /** Finds a message type by full name, for google.protobuf.Any. */
  readonly resolve: (fullName: string) => MessageInfo | undefined;
}

/** Deeper nesting is refused, as protobuf's own parsers do (a stack overflow would be a 500). */
export const MAX_DEPTH = 100;

/** proto3 JSON -> Msg, by the message type's compiled codec. */
export function messageFromJson(
  info: MessageInfo,
  json: unknown,
  path: string,
  opts: JsonReadOptions,
  depth = 0,
): Msg {
  return codecOf(info).fromJson(json, path, opts, depth);
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

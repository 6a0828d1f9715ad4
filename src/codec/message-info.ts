import protobuf from "protobufjs";

/**
 * What the codec needs to know about a message type, computed once per type from protobufjs's reflection
 * and cached. Both directions (JSON and binary) walk these plans, never protobufjs's generated code.
 */

export type ScalarType =
  | "double"
  | "float"
  | "int32"
  | "uint32"
  | "sint32"
  | "fixed32"
  | "sfixed32"
  | "int64"
  | "uint64"
  | "sint64"
  | "fixed64"
  | "sfixed64"
  | "bool"
  | "string"
  | "bytes";

/** Well-known types with their own JSON form. */
export type WktKind =
  | "Any"
  | "Timestamp"
  | "Duration"
  | "FieldMask"
  | "Struct"
  | "Value"
  | "ListValue"
  | "Wrapper"
  | "Empty";

export interface EnumInfo {
  readonly fullName: string;
  readonly byName: ReadonlyMap<string, number>;
  readonly byNumber: ReadonlyMap<number, string>;
  readonly firstNumber: number;
  /** google.protobuf.NullValue renders as JSON null. */
  readonly isNullValue: boolean;
}

/** The element type of a field: of a singular field, of each repeated item, or of a map's values. */
export type Element =
  | { readonly kind: "scalar"; readonly scalar: ScalarType }
  | { readonly kind: "enum"; readonly enum: EnumInfo }
  | { readonly kind: "message"; readonly message: () => MessageInfo };

export interface FieldInfo {
  readonly name: string;
  readonly jsonName: string;
  readonly number: number;
  readonly element: Element;
  readonly repeated: boolean;
  readonly packed: boolean;
  /** Set for map fields: the key's scalar type. */
  readonly mapKey: ScalarType | undefined;
  /** Name of the real (non-synthetic) oneof the field belongs to. */
  readonly oneof: string | undefined;
  /** Set even when default (proto3 `optional`, oneof members, messages, proto2 optional). */
  readonly explicitPresence: boolean;
  /** The field's comment in its .proto, for generated documentation. */
  readonly comment: string | undefined;
}

export interface MessageInfo {
  readonly fullName: string;
  readonly type: protobuf.Type;
  readonly fields: readonly FieldInfo[];
  /** By proto name and by JSON name. */
  readonly byName: ReadonlyMap<string, FieldInfo>;
  readonly byNumber: ReadonlyMap<number, FieldInfo>;
  readonly oneofs: ReadonlyMap<string, readonly FieldInfo[]>;
  readonly wkt: WktKind | undefined;
}

const WKT: Record<string, WktKind> = {
  "google.protobuf.Any": "Any",
  "google.protobuf.Timestamp": "Timestamp",
  "google.protobuf.Duration": "Duration",
  "google.protobuf.FieldMask": "FieldMask",
  "google.protobuf.Struct": "Struct",
  "google.protobuf.Value": "Value",
  "google.protobuf.ListValue": "ListValue",
  "google.protobuf.Empty": "Empty",
  "google.protobuf.DoubleValue": "Wrapper",
  "google.protobuf.FloatValue": "Wrapper",
  "google.protobuf.Int64Value": "Wrapper",
  "google.protobuf.UInt64Value": "Wrapper",
  "google.protobuf.Int32Value": "Wrapper",
  "google.protobuf.UInt32Value": "Wrapper",
  "google.protobuf.BoolValue": "Wrapper",
  "google.protobuf.StringValue": "Wrapper",
  "google.protobuf.BytesValue": "Wrapper",
};

const messageCache = new WeakMap<protobuf.Type, MessageInfo>();
const enumCache = new WeakMap<protobuf.Enum, EnumInfo>();

export const fullNameOf = (t: protobuf.ReflectionObject): string => t.fullName.replace(/^\./, "");

/** protoc's default JSON name: underscores dropped, the next letter upper-cased. */
export function jsonNameOf(protoName: string): string {
  let out = "";
  let upper = false;
  for (const c of protoName) {
    if (c === "_") upper = true;
    else if (upper) {
      out += c.toUpperCase();
      upper = false;
    } else out += c;
  }
  return out;
}

export function messageInfo(type: protobuf.Type): MessageInfo {
  let info = messageCache.get(type);
  if (!info) {
    info = buildMessageInfo(type);
    messageCache.set(type, info);
  }
  return info;
}

export function enumInfo(e: protobuf.Enum): EnumInfo {
  let info = enumCache.get(e);
  if (!info) {
    const byName = new Map(Object.entries(e.values));
    const byNumber = new Map<number, string>();
    // With allow_alias the first name declared for a number is the one we print.
    for (const [name, n] of byName) if (!byNumber.has(n)) byNumber.set(n, name);
    const fullName = fullNameOf(e);
    info = {
      fullName,
      byName,
      byNumber,
      firstNumber: byName.values().next().value ?? 0,
      isNullValue: fullName === "google.protobuf.NullValue",
    };
    enumCache.set(e, info);
  }
  return info;
}

function buildMessageInfo(type: protobuf.Type): MessageInfo {
  const fields: FieldInfo[] = [];
  const byName = new Map<string, FieldInfo>();
  const byNumber = new Map<number, FieldInfo>();
  const oneofs = new Map<string, FieldInfo[]>();
  for (const f of type.fieldsArray) {
    f.resolve();
    const info = fieldInfo(f);
    fields.push(info);
    byName.set(info.name, info);
    byName.set(info.jsonName, info);
    byNumber.set(info.number, info);
    if (info.oneof) {
      const members = oneofs.get(info.oneof) ?? [];
      members.push(info);
      oneofs.set(info.oneof, members);
    }
  }
  fields.sort((a, b) => a.number - b.number);
  const fullName = fullNameOf(type);
  return { fullName, type, fields, byName, byNumber, oneofs, wkt: WKT[fullName] };
}

function fieldInfo(f: protobuf.Field): FieldInfo {
  const isMap = f instanceof protobuf.MapField;
  const element = elementOf(f);
  const repeated = f.repeated || isMap;
  const synthetic = f.partOf !== null && f.options?.proto3_optional === true;
  const oneof = f.partOf && !synthetic ? f.partOf.name : undefined;
  const jsonOption = f.options?.json_name;
  // protobufjs swaps in its own camelCase copies of google/protobuf/*.proto; `protoName` keeps the real name.
  const name = (f as { protoName?: string }).protoName ?? f.name;
  return {
    name,
    jsonName: typeof jsonOption === "string" ? jsonOption : jsonNameOf(name),
    number: f.id,
    element,
    repeated,
    packed: f.repeated && !isMap && f.packed && isPackable(element),
    mapKey: isMap ? ((f as protobuf.MapField).keyType as ScalarType) : undefined,
    oneof,
    explicitPresence:
      !repeated && (element.kind === "message" || f.partOf !== null || f.hasPresence === true),
    comment: f.comment ?? undefined,
  };
}

function elementOf(f: protobuf.Field): Element {
  const t = f.resolvedType;
  if (t instanceof protobuf.Type) return { kind: "message", message: () => messageInfo(t) };
  if (t instanceof protobuf.Enum) return { kind: "enum", enum: enumInfo(t) };
  return { kind: "scalar", scalar: f.type as ScalarType };
}

function isPackable(e: Element): boolean {
  return e.kind === "enum" || (e.kind === "scalar" && e.scalar !== "string" && e.scalar !== "bytes");
}

/** Well-known types that one string sets (a path variable, a query parameter): their JSON is a string or a scalar. */
export const STRING_FORM_WKTS: ReadonlySet<string> = new Set([
  "Timestamp",
  "Duration",
  "FieldMask",
  "Wrapper",
]);

import { defaultScalar, enumToJson, isDefaultScalar, scalarToJson } from "./json-scalars.js";
import type { Element, FieldInfo, MessageInfo } from "./message-info.js";
import type { FieldValue, Msg, MsgMap } from "./msg.js";
import { wktToJson } from "./wkt.js";

/** Msg -> proto3 JSON. */

export interface JsonWriteOptions {
  /**
   * Also print fields with implicit presence at their default value (0, "", false, [], {}, the first
   * enum value). Fields with explicit presence (messages, oneof members, `optional`) are printed only
   * when set: protobuf-go's EmitDefaultValues, @bufbuild/protobuf's alwaysEmitImplicit.
   */
  readonly emitUnpopulated: boolean;
  /** Keys are proto field names (`book_id`) instead of JSON names (`bookId`). */
  readonly useProtoNames: boolean;
  /** Enums as numbers instead of names. */
  readonly enumsAsNumbers: boolean;
  readonly resolve: (fullName: string) => MessageInfo | undefined;
}

export function messageToJson(info: MessageInfo, msg: Msg, opts: JsonWriteOptions): unknown {
  if (info.wkt) return wktToJson(info, msg, opts);
  const out: Record<string, unknown> = {};
  for (const f of info.fields) {
    const key = opts.useProtoNames ? f.name : f.jsonName;
    const v = msg[f.name];
    if (v === undefined || !isPopulated(f, v)) {
      if (opts.emitUnpopulated && !f.explicitPresence) {
        out[key] = defaultJson(f, opts);
      }
      continue;
    }
    out[key] = fieldToJson(f, v, opts);
  }
  return out;
}

function isPopulated(f: FieldInfo, v: FieldValue): boolean {
  if (f.mapKey) return (v as MsgMap).size > 0;
  if (f.repeated) return (v as FieldValue[]).length > 0;
  return f.explicitPresence || !isDefaultScalar(v);
}

export function fieldToJson(f: FieldInfo, v: FieldValue, opts: JsonWriteOptions): unknown {
  if (f.mapKey) {
    const out: Record<string, unknown> = {};
    for (const [k, item] of v as MsgMap) out[String(k)] = elementToJson(f.element, item, opts);
    return out;
  }
  if (f.repeated) return (v as FieldValue[]).map((item) => elementToJson(f.element, item, opts));
  return elementToJson(f.element, v, opts);
}

export function elementToJson(e: Element, v: FieldValue, opts: JsonWriteOptions): unknown {
  switch (e.kind) {
    case "scalar":
      return scalarToJson(e.scalar, v);
    case "enum":
      return enumToJson(e.enum, v as number, opts.enumsAsNumbers);
    case "message":
      return messageToJson(e.message(), v as Msg, opts);
  }
}

function defaultJson(f: FieldInfo, opts: JsonWriteOptions): unknown {
  if (f.mapKey) return {};
  if (f.repeated) return [];
  const e = f.element;
  if (e.kind === "enum") return enumToJson(e.enum, 0, opts.enumsAsNumbers);
  return e.kind === "scalar" ? scalarToJson(e.scalar, defaultScalar(e.scalar)) : null;
}

import { codecOf } from "./compiled/codecs.js";
import { flagsKey } from "./compiled/gen-to-json.js";
import { enumToJson, scalarToJson } from "./json-scalars.js";
import type { Element, FieldInfo, MessageInfo } from "./message-info.js";
import { type FieldValue, type Msg, type MsgMap, putEntry } from "./msg.js";
import type { JsonWriteOptions } from "./options.js";

/** Msg -> proto3 JSON. */

export type { JsonWriteOptions } from "./options.js";

/** Msg -> proto3 JSON, by the message type's compiled codec (specialised for the output options). */
export function messageToJson(info: MessageInfo, msg: Msg, opts: JsonWriteOptions): unknown {
  return codecOf(info).toJsonFor(flagsKey(opts))(msg, opts);
}

export function fieldToJson(f: FieldInfo, v: FieldValue, opts: JsonWriteOptions): unknown {
  if (f.mapKey) {
    const out: Record<string, unknown> = {};
    for (const [k, item] of v as MsgMap) putEntry(out, String(k), elementToJson(f.element, item, opts));
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

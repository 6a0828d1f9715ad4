import {
  enumFromJson,
  type FieldInfo,
  type FieldValue,
  JsonMappingError,
  type JsonReadOptions,
  scalarFromJson,
  wktFromJson,
} from "../codec/index.js";
import type { ScalarType } from "../codec/message-info.js";
import { STRING_FORM_WKTS } from "../codec/message-info.js";

/**
 * A path variable or query parameter is a string; this turns it into a field's value the way the JSON
 * mapping reads the same value as a JSON string (numbers, int64, bytes, enums by name or number, and the
 * string forms of Timestamp, Duration, FieldMask and the wrappers).
 */
export function paramValue(f: FieldInfo, raw: string, path: string, opts: JsonReadOptions): FieldValue {
  const e = f.element;
  if (e.kind === "scalar") return scalarFromParam(e.scalar, raw, path);
  if (e.kind === "enum") return enumFromJson(e.enum, /^-?\d+$/.test(raw) ? Number(raw) : raw, path);
  const info = e.message();
  if (!STRING_FORM_WKTS.has(info.wkt ?? "")) {
    throw new JsonMappingError(path, `${info.fullName} cannot be set from a path or query parameter`);
  }
  if (info.wkt === "Wrapper") {
    const inner = info.byName.get("value")!.element;
    return { value: scalarFromParam(inner.kind === "scalar" ? inner.scalar : "string", raw, path) };
  }
  return wktFromJson(info, raw, path, opts);
}

function scalarFromParam(type: ScalarType, raw: string, path: string): FieldValue {
  if (type === "string") return raw;
  if (type === "bool") {
    const lower = raw.toLowerCase();
    if (lower === "true" || raw === "1") return true;
    if (lower === "false" || raw === "0") return false;
    throw new JsonMappingError(path, `"${raw}" is not true or false`);
  }
  return scalarFromJson(type, raw, path);
}

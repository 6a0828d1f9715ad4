import { decodeMessage } from "./binary.js";
import type { FieldInfo, MessageInfo } from "./message-info.js";
import { at, type FieldValue, type Msg, type MsgMap } from "./msg.js";
import { elementToJson, fieldToJson, type JsonWriteOptions } from "./to-json.js";

/**
 * Where rendering a message as JSON fails: the path of the innermost value that cannot be printed
 * (`items[2].createdAt`, `labels["k"]`, `attrs.a.b` inside a Struct), by JSON names. Called only after
 * messageToJson threw, so the printing itself never pays for paths. Returns "" if nothing fails.
 */
export function unrenderablePath(info: MessageInfo, msg: Msg, opts: JsonWriteOptions): string {
  return messagePath(info, msg, opts, "") ?? "";
}

/** As unrenderablePath, for a single field of `msg` (an HTTP rule's response_body). */
export function unrenderableFieldPath(f: FieldInfo, v: FieldValue, opts: JsonWriteOptions): string {
  return fieldPath(f, v, opts, f.jsonName) ?? f.jsonName;
}

const fails = (render: () => unknown): boolean => {
  try {
    render();
    return false;
  } catch {
    return true;
  }
};

function messagePath(info: MessageInfo, msg: Msg, opts: JsonWriteOptions, path: string): string | undefined {
  if (info.wkt) return wktPath(info, msg, opts, path);
  for (const f of info.fields) {
    const v = msg[f.name];
    if (v === undefined) continue;
    const p = at(path, f.jsonName);
    if (fails(() => fieldToJson(f, v, opts))) return fieldPath(f, v, opts, p) ?? p;
  }
  return undefined;
}

function fieldPath(f: FieldInfo, v: FieldValue, opts: JsonWriteOptions, path: string): string | undefined {
  const e = f.element;
  const inner = (x: FieldValue, p: string) =>
    fails(() => elementToJson(e, x, opts))
      ? ((e.kind === "message" ? messagePath(e.message(), x as Msg, opts, p) : undefined) ?? p)
      : undefined;
  if (f.mapKey) {
    for (const [k, x] of v as MsgMap) {
      const found = inner(x, `${path}["${String(k)}"]`);
      if (found) return found;
    }
    return undefined;
  }
  if (f.repeated) {
    const items = v as FieldValue[];
    for (let i = 0; i < items.length; i++) {
      const found = inner(items[i]!, `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  return inner(v, path);
}

/** Into Struct, ListValue, Value and a resolvable Any; other well-known types are leaves. */
function wktPath(info: MessageInfo, msg: Msg, opts: JsonWriteOptions, path: string): string | undefined {
  switch (info.wkt) {
    case "Struct":
      return fieldPath(info.byName.get("fields")!, msg.fields ?? new Map(), opts, path);
    case "ListValue":
      return fieldPath(info.byName.get("values")!, msg.values ?? [], opts, path);
    case "Value":
      for (const kind of ["struct_value", "list_value"]) {
        const v = msg[kind];
        if (v !== undefined) return fieldPath(info.byName.get(kind)!, v, opts, path);
      }
      return undefined;
    case "Any": {
      const typeUrl = (msg.type_url as string | undefined) ?? "";
      const inner = opts.resolve(typeUrl.slice(typeUrl.lastIndexOf("/") + 1));
      if (!inner) return undefined;
      try {
        return messagePath(
          inner,
          decodeMessage(inner, (msg.value as Uint8Array) ?? new Uint8Array(0)),
          opts,
          path,
        );
      } catch {
        return undefined;
      }
    }
    default:
      return undefined;
  }
}

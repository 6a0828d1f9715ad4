import { parse } from "node:querystring";
import { type FieldInfo, JsonMappingError, type MessageInfo, type Msg } from "../codec/index.js";
import { STRING_FORM_WKTS } from "../routing/compile-routes.js";
import type { Route } from "../routing/route.js";
import { paramValue } from "./param-value.js";
import { appendField, setField } from "./set-field.js";

/**
 * Query parameters fill the fields that neither the path nor the body binds (http.proto):
 * dotted names by proto or JSON name, repeated fields by repeated keys, a second value for a
 * non-repeated field is an error. With body "*" every field comes from the body, so none applies.
 */
export function applyQuery(route: Route, msg: Msg, rawQuery: string): void {
  const query = parse(rawQuery);
  const reject = route.settings.unknownQueryParameters === "reject";
  for (const key of Object.keys(query)) {
    if (key === "") continue;
    const raw = query[key]!;
    if (route.body.kind === "all") {
      if (reject)
        throw new JsonMappingError(
          "",
          `query parameter "${key}" is not allowed: the whole request comes from the body`,
        );
      continue;
    }
    const chain = resolveQueryPath(route.method.input, key);
    if (!chain) {
      if (reject) throw new JsonMappingError("", `unknown query parameter "${key}"`);
      continue;
    }
    if (isBound(route.boundPaths, chain)) continue; // path and body win
    const field = chain[chain.length - 1]!;
    if (field.mapKey) throw new JsonMappingError(key, "map fields cannot be set from query parameters");
    const values = Array.isArray(raw) ? raw : [raw];
    if (field.repeated) {
      for (const v of values) appendField(msg, chain, paramValue(field, v, key, route.read));
    } else {
      if (values.length > 1)
        throw new JsonMappingError(key, "given more than once, but the field is not repeated");
      setField(route.method.input, msg, chain, paramValue(field, values[0]!, key, route.read));
    }
  }
}

/** Resolves "a.b.c" (each part by proto or JSON name) to the chain of fields, or undefined if unknown. */
function resolveQueryPath(input: MessageInfo, key: string): FieldInfo[] | undefined {
  const chain: FieldInfo[] = [];
  let info: MessageInfo | undefined = input;
  for (const part of key.split(".")) {
    if (!info) return undefined;
    const f: FieldInfo | undefined = info.byName.get(part);
    if (!f) return undefined;
    chain.push(f);
    const e: FieldInfo["element"] = f.element;
    info =
      e.kind === "message" && !f.repeated && !STRING_FORM_WKTS.has(e.message().wkt ?? "")
        ? e.message()
        : undefined;
  }
  return chain;
}

function isBound(bound: ReadonlyArray<readonly string[]>, chain: readonly FieldInfo[]): boolean {
  return bound.some((b) => b.length <= chain.length && b.every((name, i) => chain[i]!.name === name));
}

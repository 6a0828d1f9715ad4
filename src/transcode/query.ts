import { type FieldInfo, JsonMappingError, type MessageInfo, type Msg } from "../codec/index.js";
import { mapKeyFromJson } from "../codec/json-scalars.js";
import { STRING_FORM_WKTS } from "../codec/message-info.js";
import type { Route } from "../routing/route.js";
import { paramValue } from "./param-value.js";
import { parseQueryString } from "./query-string.js";
import { appendField, setField } from "./set-field.js";

/**
 * Query parameters fill the fields that neither the path nor the body binds (http.proto):
 * dotted names by proto or JSON name, repeated fields by repeated keys, map entries as
 * `field[key]=value` (grpc-gateway's form), a second value for a non-repeated field (or a map key) is
 * an error, and so is a second member of one oneof (as in a JSON body). With body "*" every field comes
 * from the body, so none applies. Throws JsonMappingError or PercentDecodeError (both a 400).
 */
export function applyQuery(route: Route, msg: Msg, rawQuery: string): void {
  const query = parseQueryString(rawQuery);
  const reject = route.settings.unknownQueryParameters === "reject";
  for (const [key, values] of query) {
    if (route.body.kind === "all") {
      if (reject)
        throw new JsonMappingError(
          "",
          `query parameter "${key}" is not allowed: the whole request comes from the body`,
        );
      continue;
    }
    const entry = MAP_ENTRY.exec(key);
    const chain = resolveQueryPath(route.method.input, entry ? entry[1]! : key);
    if (!chain) {
      if (reject) throw new JsonMappingError("", `unknown query parameter "${key}"`);
      continue;
    }
    if (isBound(route.boundPaths, chain)) continue; // path and body win
    const field = chain[chain.length - 1]!;
    assertOneofFree(route.method.input, msg, chain, key);
    if (field.mapKey || entry) {
      if (!field.mapKey || !entry)
        throw new JsonMappingError(key, `map fields are set as ${entry ? entry[1] : key}[key]=value`);
      if (values.length > 1) throw new JsonMappingError(key, "given more than once");
      setMapEntry(route, msg, chain, field, entry[2]!, values[0]!, key);
      continue;
    }
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

/** No oneof on the way to the field already holds another member (set by the body or another parameter). */
function assertOneofFree(root: MessageInfo, msg: Msg, chain: readonly FieldInfo[], key: string): void {
  let info = root;
  let target: Msg | undefined = msg;
  for (const f of chain) {
    if (f.oneof) {
      for (const other of info.oneofs.get(f.oneof)!) {
        if (other !== f && target[other.name] !== undefined)
          throw new JsonMappingError(key, `oneof "${f.oneof}" already has "${other.jsonName}" set`);
      }
    }
    target = target[f.name] as Msg | undefined;
    if (target === undefined || f.element.kind !== "message") return;
    info = f.element.message();
  }
}

function isBound(bound: ReadonlyArray<readonly string[]>, chain: readonly FieldInfo[]): boolean {
  return bound.some((b) => b.length <= chain.length && b.every((name, i) => chain[i]!.name === name));
}

const MAP_ENTRY = /^(.+)\[([^\]]*)\]$/;

/** `labels[env]=prod`: the key converted to the map's key type, the value as any parameter value. */
function setMapEntry(
  route: Route,
  msg: Msg,
  chain: readonly FieldInfo[],
  field: FieldInfo,
  key: string,
  value: string,
  name: string,
): void {
  let target = msg;
  for (const f of chain.slice(0, -1)) target = (target[f.name] ??= {}) as Msg;
  const map = (target[field.name] ??= new Map()) as Map<unknown, unknown>;
  map.set(mapKeyFromJson(field.mapKey!, key, name), paramValue(field, value, name, route.read));
}

import { defaultScalar, scalarToJson } from "../json-scalars.js";
import type { Element, FieldInfo, MessageInfo } from "../message-info.js";
import { type Deps, nonZero, str } from "./source.js";

/** The output options a generated toJson is specialised for (the `resolve` function stays at run time). */
export interface ToJsonFlags {
  readonly emitUnpopulated: boolean;
  readonly useProtoNames: boolean;
  readonly enumsAsNumbers: boolean;
}

export const flagsKey = (f: ToJsonFlags): number =>
  (f.emitUnpopulated ? 1 : 0) | (f.useProtoNames ? 2 : 0) | (f.enumsAsNumbers ? 4 : 0);

/**
 * Generates Msg -> proto3 JSON for one message type and one combination of output options, so that the
 * key of every field and the form of every enum are constants in the generated code.
 * Sub-messages are printed by `T[i]`, their codec's function for the same options, looked up once.
 */
export function genToJson(info: MessageInfo, deps: Deps, flags: ToJsonFlags): string {
  const body = info.fields.map((f) => fieldOut(f, deps, flags)).join("\n");
  return `
return function toJson(msg, opts) {
  const out = {};
  let v;
${body}
  return out;
};`;
}

function sub(deps: Deps, info: MessageInfo): string {
  const i = deps.codecRef(info);
  return `(T[${i}] ??= D[${i}].toJsonFor(FLAGS))`;
}

/** The JSON of the element value in variable `x`. */
function elementOut(e: Element, x: string, deps: Deps, flags: ToJsonFlags): string {
  switch (e.kind) {
    case "enum":
      if (e.enum.isNullValue) return "null";
      return flags.enumsAsNumbers ? x : `R.enumName(E[${deps.enumRef(e.enum)}], ${x})`;
    case "message":
      return `${sub(deps, e.message())}(${x}, opts)`;
    case "scalar":
      switch (e.scalar) {
        case "int64":
        case "uint64":
        case "sint64":
        case "fixed64":
        case "sfixed64":
          return `String(${x})`;
        case "bytes":
          return `R.bytes(${x})`;
        case "float":
          return `R.float(${x})`;
        case "double":
          return `(Number.isFinite(${x}) ? ${x} : R.double(${x}))`;
        default:
          return x;
      }
  }
}

function defaultJson(f: FieldInfo, flags: ToJsonFlags): string {
  if (f.mapKey) return "{}";
  if (f.repeated) return "[]";
  const e = f.element;
  if (e.kind === "enum") {
    if (e.enum.isNullValue) return "null";
    return flags.enumsAsNumbers ? "0" : str(e.enum.byNumber.get(0) ?? "0");
  }
  if (e.kind === "scalar") return JSON.stringify(scalarToJson(e.scalar, defaultScalar(e.scalar)));
  return "null";
}

function fieldOut(f: FieldInfo, deps: Deps, flags: ToJsonFlags): string {
  const key = str(flags.useProtoNames ? f.name : f.jsonName);
  const get = `v = msg[${str(f.name)}];`;
  const otherwise =
    flags.emitUnpopulated && !f.explicitPresence ? ` else out[${key}] = ${defaultJson(f, flags)};` : "";
  if (f.mapKey) {
    return `${get}
  if (v !== undefined && v.size !== 0) {
    const o = {};
    for (const [k, x] of v) R.putEntry(o, String(k), ${elementOut(f.element, "x", deps, flags)});
    out[${key}] = o;
  }${otherwise}`;
  }
  if (f.repeated) {
    return `${get}
  if (v !== undefined && v.length !== 0) {
    const a = new Array(v.length);
    for (let i = 0; i < v.length; i++) { const x = v[i]; a[i] = ${elementOut(f.element, "x", deps, flags)}; }
    out[${key}] = a;
  }${otherwise}`;
  }
  const condition = f.explicitPresence ? "v !== undefined" : `v !== undefined && ${nonZero(f.element)}`;
  return `${get}
  if (${condition}) out[${key}] = ${elementOut(f.element, "v", deps, flags)};${otherwise}`;
}

import type { Element, FieldInfo, MessageInfo } from "../message-info.js";
import type { Msg } from "../msg.js";
import type { JsonReadOptions } from "../options.js";
import { type Deps, str } from "./source.js";

export type FromJsonFn = (json: unknown, path: string, opts: JsonReadOptions, depth: number) => Msg;

/**
 * Generates proto3 JSON -> Msg for one message type: a `switch` on the JSON key, each case converting
 * its value inline on the fast path (a string for a string field, an int32 that is already an integer)
 * and calling the shared converters otherwise. Null means unset, except for Value and NullValue.
 */
export function genFromJson(info: MessageInfo, deps: Deps): string {
  const cases: string[] = [];
  const seenVars: string[] = [];
  const oneofVars = new Map<string, string>();
  for (const f of info.fields) {
    if (f.oneof && !oneofVars.has(f.oneof)) oneofVars.set(f.oneof, `o${oneofVars.size}`);
  }
  for (const f of info.fields) {
    const labels = [...new Set([f.jsonName, f.name])].map((k) => `case ${str(k)}:`).join(" ");
    const target = `msg[${str(f.name)}]`;
    const lines: string[] = [];
    // Given by proto and JSON name: counted before the null check, as a null names the field too.
    const seen = f.jsonName !== f.name ? `s${f.number}` : undefined;
    if (seen) {
      seenVars.push(seen);
      lines.push(`if (${seen}) throw R.givenTwice(path, key);`, `${seen} = true;`);
    }
    if (!acceptsNull(f)) lines.push("if (v === null) break;");
    if (f.oneof) {
      const o = oneofVars.get(f.oneof)!;
      lines.push(
        `if (${o} !== undefined) throw R.oneofTaken(path, key, ${str(f.oneof)}, ${o});`,
        `${o} = key;`,
      );
    }
    lines.push(fieldAssign(f, target, deps));
    cases.push(`${labels} {\n${lines.join("\n")}\nbreak;\n}`);
  }
  return `
return function fromJson(json, path, opts, depth) {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw R.notObject(path, ${str(info.fullName)});
  if (depth > R.MAX_DEPTH) throw R.tooDeep(path);
  const msg = S.create();
  ${[...oneofVars.values()].map((o) => `let ${o};`).join(" ")} ${seenVars.map((s) => `let ${s} = false;`).join(" ")}
  for (const key in json) {
    const v = json[key];
    switch (key) {
${cases.join("\n")}
      default:
        if (!opts.ignoreUnknownFields) throw R.unknownField(path, key, ${str(info.fullName)});
    }
  }
  return msg;
};`;
}

function acceptsNull(f: FieldInfo): boolean {
  if (f.repeated) return false;
  const e = f.element;
  return (e.kind === "enum" && e.enum.isNullValue) || (e.kind === "message" && e.message().wkt === "Value");
}

/** Statements that convert `v`, the JSON value of field f, and store it in `target`. */
function fieldAssign(f: FieldInfo, target: string, deps: Deps): string {
  if (f.mapKey) {
    const valueNull = f.element.kind === "message" && f.element.message().wkt === "Value";
    const key = f.mapKey === "string" ? "k" : `R.mapKey(${str(f.mapKey)}, k, path, key)`;
    return `if (typeof v !== "object" || Array.isArray(v)) throw R.notMap(path, key);
      const m = new Map();
      for (const k in v) {
        const x = v[k];
        ${valueNull ? "" : "if (x === null) throw R.nullValue(path, key, k);"}
        const mk = ${key};
        ${f.mapKey === "string" ? "" : 'if (m.has(mk)) throw R.duplicateKey(path, key, k); // "0" and "-0"'}
        m.set(mk, ${elementExpr(f.element, "x", "k", deps)});
      }
      ${target} = m;`;
  }
  if (f.repeated) {
    const itemNull = f.element.kind === "message" && f.element.message().wkt === "Value";
    return `if (!Array.isArray(v)) throw R.notArray(path, key);
      const a = new Array(v.length);
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        ${itemNull ? "" : "if (x === null) throw R.nullItem(path, key, i);"}
        a[i] = ${elementExpr(f.element, "x", "i", deps)};
      }
      ${target} = a;`;
  }
  return `${target} = ${elementExpr(f.element, "v", "undefined", deps)};`;
}

/** Converts the JSON value in variable `x`; `index` names the array index or map key for errors. */
function elementExpr(e: Element, x: string, index: string, deps: Deps): string {
  const slow = (type: string) => `R.scalar(${str(type)}, ${x}, path, key, ${index})`;
  switch (e.kind) {
    case "enum":
      return `R.enumValue(E[${deps.enumRef(e.enum)}], ${x}, path, key, ${index})`;
    case "message": {
      const d = deps.codecRef(e.message());
      const childPath = index === "undefined" ? "R.at(path, key)" : `R.at(path, key, ${index})`;
      return `D[${d}].fromJson(${x}, ${childPath}, opts, depth + 1)`;
    }
    case "scalar":
      switch (e.scalar) {
        case "string":
          return `(typeof ${x} === "string" ? ${x} : ${slow("string")})`;
        case "bool":
          return `(typeof ${x} === "boolean" ? ${x} : ${slow("bool")})`;
        case "int32":
        case "sint32":
        case "sfixed32":
          return `(typeof ${x} === "number" && (${x} | 0) === ${x} ? ${x} : ${slow(e.scalar)})`;
        case "uint32":
        case "fixed32":
          return `(typeof ${x} === "number" && ${x} >>> 0 === ${x} ? ${x} : ${slow(e.scalar)})`;
        case "double":
          // JSON.parse reads an overflowing literal (1e400) as Infinity: the slow path rejects it.
          return `(typeof ${x} === "number" && Number.isFinite(${x}) ? ${x} : ${slow("double")})`;
        default:
          return slow(e.scalar);
      }
  }
}

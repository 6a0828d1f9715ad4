import type { Element, FieldInfo, MessageInfo, ScalarType } from "../message-info.js";
import { type Deps, nonZero, str, tag, WIRE, wireOf } from "./source.js";

/**
 * Generates Msg -> protobuf binary for one message type: one guarded write per field, in field-number
 * order, with tags computed at generation time. Implicit-presence fields at their zero value are skipped
 * (-0.0 is not zero); explicit-presence fields are written whenever set.
 */
export function genEncode(info: MessageInfo, deps: Deps): string {
  const body = info.fields.map((f) => fieldWrite(f, deps)).join("\n");
  return `
return function encode(msg, w) {
  let v;
${body}
};`;
}

/** Writes the raw value in `x` (no tag). */
function rawWrite(type: ScalarType | "enum", x: string): string {
  switch (type) {
    case "enum":
      return `w.int32(${x});`;
    case "int64":
    case "uint64":
      return `R.writeInt64(w, ${x});`;
    case "sint64":
      return `R.writeSint64(w, ${x});`;
    case "fixed64":
    case "sfixed64":
      return `R.writeFixed64(w, ${x});`;
    default:
      return `w.${type}(${x});`;
  }
}

/** Writes `x` as field `num` with its tag. */
function elementWrite(e: Element, num: number, x: string, deps: Deps): string {
  const t = `w.uint32(${tag(num, wireOf(e))});`;
  if (e.kind === "message")
    return `${t} w.fork(); D[${deps.codecRef(e.message())}].encode(${x}, w); w.ldelim();`;
  return `${t} ${rawWrite(e.kind === "enum" ? "enum" : e.scalar, x)}`;
}

function fieldWrite(f: FieldInfo, deps: Deps): string {
  const get = `v = msg[${str(f.name)}];`;
  if (f.mapKey) {
    const keyWrite = `w.uint32(${tag(1, WIRE[f.mapKey])}); ${rawWrite(f.mapKey, "k")}`;
    return `${get}
  if (v !== undefined) for (const [k, x] of v) {
    w.uint32(${tag(f.number, 2)}); w.fork();
    ${keyWrite}
    ${elementWrite(f.element, 2, "x", deps)}
    w.ldelim();
  }`;
  }
  if (f.repeated) {
    if (f.packed) {
      const type = f.element.kind === "enum" ? "enum" : (f.element as { scalar: ScalarType }).scalar;
      return `${get}
  if (v !== undefined && v.length !== 0) {
    w.uint32(${tag(f.number, 2)}); w.fork();
    for (let i = 0; i < v.length; i++) { ${rawWrite(type, "v[i]")} }
    w.ldelim();
  }`;
    }
    return `${get}
  if (v !== undefined) for (let i = 0; i < v.length; i++) { ${elementWrite(f.element, f.number, "v[i]", deps)} }`;
  }
  const condition = f.explicitPresence ? "v !== undefined" : `v !== undefined && ${nonZero(f.element)}`;
  return `${get}
  if (${condition}) { ${elementWrite(f.element, f.number, "v", deps)} }`;
}

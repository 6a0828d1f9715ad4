import { defaultScalar } from "../json-scalars.js";
import type { Element, FieldInfo, MessageInfo, ScalarType } from "../message-info.js";
import { type Deps, str, tag, WIRE, wireOf } from "./source.js";

/**
 * Generates protobuf binary -> Msg for one message type: a `switch` on the whole tag (field number and
 * wire type), so a known field with an unexpected wire type falls through to "skip", as protobuf-go
 * treats it (an unknown field). Packed and unpacked repeated encodings are both accepted; a message field
 * seen twice merges; a oneof member clears the others.
 */
export function genDecode(info: MessageInfo, deps: Deps): string {
  const cases = info.fields.map((f) => fieldCases(info, f, deps)).join("\n");
  return `
return function decode(r, end, msg, depth) {
  if (depth > R.MAX_DEPTH) throw new Error("nested more than " + R.MAX_DEPTH + " levels deep");
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
${cases}
      default:
        if ((tag >>> 3) === 0) throw new Error("invalid field number 0 in ${info.fullName}");
        r.skipType(tag & 7);
    }
  }
  if (r.pos !== end) throw new Error("truncated ${info.fullName}");
  return msg;
};`;
}

function rawRead(type: ScalarType | "enum"): string {
  switch (type) {
    case "enum":
      return "r.int32()";
    case "int64":
      return "R.readInt64(r)";
    case "uint64":
      return "R.readUint64(r)";
    case "sint64":
      return "R.readSint64(r)";
    case "fixed64":
      return "R.readFixed64(r)";
    case "sfixed64":
      return "R.readSfixed64(r)";
    default:
      return `r.${type}()`;
  }
}

function elementRead(e: Element, deps: Deps, existing: string | undefined): string {
  if (e.kind === "message") {
    const d = deps.codecRef(e.message());
    const target = existing === undefined ? `D[${d}].create()` : `${existing} ?? D[${d}].create()`;
    return `D[${d}].decode(r, r.uint32() + r.pos, ${target}, depth + 1)`;
  }
  return rawRead(e.kind === "enum" ? "enum" : e.scalar);
}

function defaultValue(e: Element, deps: Deps): string {
  if (e.kind === "message") return `D[${deps.codecRef(e.message())}].create()`;
  if (e.kind === "enum") return "0";
  const d = defaultScalar(e.scalar);
  return d instanceof Uint8Array ? "new Uint8Array(0)" : JSON.stringify(d);
}

function fieldCases(info: MessageInfo, f: FieldInfo, deps: Deps): string {
  const target = `msg[${str(f.name)}]`;
  const e = f.element;
  if (f.mapKey) {
    return `      case ${tag(f.number, 2)}: {
        const e = r.uint32() + r.pos;
        let k = ${JSON.stringify(defaultScalar(f.mapKey))};
        let x;
        while (r.pos < e) {
          const t = r.uint32();
          if (t === ${tag(1, WIRE[f.mapKey])}) k = ${rawRead(f.mapKey)};
          else if (t === ${tag(2, wireOf(e))}) x = ${elementRead(e, deps, undefined)};
          else r.skipType(t & 7);
        }
        (${target} ??= new Map()).set(k, x === undefined ? ${defaultValue(e, deps)} : x);
        break;
      }`;
  }
  const wire = wireOf(e);
  if (f.repeated) {
    const single = `      case ${tag(f.number, wire)}: (${target} ??= []).push(${elementRead(e, deps, undefined)}); break;`;
    if (wire === 2) return single; // strings, bytes, messages: never packed
    const type = e.kind === "enum" ? "enum" : (e as { scalar: ScalarType }).scalar;
    return `${single}
      case ${tag(f.number, 2)}: {
        const e = r.uint32() + r.pos;
        const a = (${target} ??= []);
        while (r.pos < e) a.push(${rawRead(type)});
        break;
      }`;
  }
  // A oneof member clears its siblings; set to undefined rather than deleted, to keep the object's shape.
  const siblings = f.oneof
    ? info.oneofs
        .get(f.oneof)!
        .filter((o) => o !== f)
        .map((o) => `if (msg[${str(o.name)}] !== undefined) msg[${str(o.name)}] = undefined;`)
        .join(" ")
    : "";
  return `      case ${tag(f.number, wire)}: ${target} = ${elementRead(e, deps, e.kind === "message" ? target : undefined)}; ${siblings} break;`;
}

/**
 * An empty message with every field present as undefined, in field order: all messages of a type share
 * one object shape, which keeps property access monomorphic (protobufjs gets the same from prototypes).
 */
export function genCreate(info: MessageInfo): string {
  return `return function create() { return { ${info.fields.map((f) => `${str(f.name)}: undefined`).join(", ")} }; };`;
}

import type { Element, EnumInfo, MessageInfo, ScalarType } from "../message-info.js";

/** A JS string literal. */
export const str = (s: string): string => JSON.stringify(s);

/**
 * What a generated function refers to outside itself: codecs of other message types (D[i]) and enum
 * infos (E[i]). Indices are handed out as the generator asks for them.
 */
export class Deps {
  readonly messages: MessageInfo[] = [];
  readonly enums: EnumInfo[] = [];

  codecRef(info: MessageInfo): number {
    let i = this.messages.indexOf(info);
    if (i === -1) i = this.messages.push(info) - 1;
    return i;
  }

  enumRef(e: EnumInfo): number {
    let i = this.enums.indexOf(e);
    if (i === -1) i = this.enums.push(e) - 1;
    return i;
  }
}

/** Wire type of each scalar type. */
export const WIRE: Record<ScalarType, number> = {
  double: 1,
  fixed64: 1,
  sfixed64: 1,
  float: 5,
  fixed32: 5,
  sfixed32: 5,
  string: 2,
  bytes: 2,
  int32: 0,
  uint32: 0,
  sint32: 0,
  int64: 0,
  uint64: 0,
  sint64: 0,
  bool: 0,
};

export const wireOf = (e: Element): number =>
  e.kind === "message" ? 2 : e.kind === "enum" ? 0 : WIRE[e.scalar];

/** A field's tag: number and wire type, as the varint that precedes it. */
export const tag = (num: number, wire: number): number => ((num << 3) | wire) >>> 0;

/**
 * The condition under which an implicit-presence value in `v` counts as set (is written, is printed):
 * not its zero value. -0.0 is set (its bits are not zero); 64-bit values may be number or bigint.
 */
export function nonZero(e: Element): string {
  if (e.kind === "enum") return "v !== 0";
  if (e.kind === "message") return "true";
  switch (e.scalar) {
    case "string":
      return 'v !== ""';
    case "bool":
      return "v !== false";
    case "bytes":
      return "v.length !== 0";
    case "double":
    case "float":
      return "(v !== 0 || 1 / v < 0)";
    case "int64":
    case "uint64":
    case "sint64":
    case "fixed64":
    case "sfixed64":
      return "v != 0";
    default:
      return "v !== 0";
  }
}

import protobuf from "protobufjs";
import { defaultScalar, isDefaultScalar } from "./json-scalars.js";
import type { Element, FieldInfo, MessageInfo, ScalarType } from "./message-info.js";
import type { FieldValue, MapKey, Msg, MsgMap } from "./msg.js";

/** Msg <-> protobuf binary wire format, using protobufjs's Writer and Reader for the primitives. */

enum Wire {
  Varint = 0,
  Fixed64 = 1,
  Len = 2,
  Fixed32 = 5,
}

export class WireFormatError extends Error {}

export function encodeMessage(info: MessageInfo, msg: Msg): Uint8Array {
  const w = protobuf.Writer.create();
  writeMessage(w, info, msg);
  return w.finish();
}

export function decodeMessage(info: MessageInfo, bytes: Uint8Array): Msg {
  const r = protobuf.Reader.create(bytes);
  try {
    return readMessage(r, info, r.len, {});
  } catch (err) {
    if (err instanceof WireFormatError) throw err;
    throw new WireFormatError(`cannot decode ${info.fullName}: ${(err as Error).message}`);
  }
}

// ---- encoding ----

function writeMessage(w: protobuf.Writer, info: MessageInfo, msg: Msg): void {
  for (const f of info.fields) {
    const v = msg[f.name];
    if (v === undefined) continue;
    if (f.mapKey) writeMap(w, f, v as MsgMap);
    else if (f.repeated) writeRepeated(w, f, v as FieldValue[]);
    else if (f.explicitPresence || !isDefaultScalar(v)) writeElement(w, f.number, f.element, v);
  }
}

function writeMap(w: protobuf.Writer, f: FieldInfo, map: MsgMap): void {
  for (const [k, v] of map) {
    w.uint32((f.number << 3) | Wire.Len).fork();
    writeScalar(w, 1, f.mapKey!, k);
    writeElement(w, 2, f.element, v);
    w.ldelim();
  }
}

function writeRepeated(w: protobuf.Writer, f: FieldInfo, items: FieldValue[]): void {
  if (items.length === 0) return;
  if (f.packed) {
    w.uint32((f.number << 3) | Wire.Len).fork();
    const type = f.element.kind === "scalar" ? f.element.scalar : "int32";
    for (const item of items) writeRaw(w, type, item);
    w.ldelim();
    return;
  }
  for (const item of items) writeElement(w, f.number, f.element, item);
}

function writeElement(w: protobuf.Writer, num: number, e: Element, v: FieldValue): void {
  if (e.kind === "message") {
    w.uint32((num << 3) | Wire.Len).fork();
    writeMessage(w, e.message(), v as Msg);
    w.ldelim();
  } else {
    writeScalar(w, num, e.kind === "enum" ? "int32" : e.scalar, v);
  }
}

function writeScalar(w: protobuf.Writer, num: number, type: ScalarType, v: FieldValue | MapKey): void {
  w.uint32((num << 3) | wireType(type));
  writeRaw(w, type, v);
}

function writeRaw(w: protobuf.Writer, type: ScalarType, v: FieldValue | MapKey): void {
  switch (type) {
    case "double":
      w.double(v as number);
      break;
    case "float":
      w.float(v as number);
      break;
    case "int32":
      w.int32(v as number);
      break;
    case "uint32":
      w.uint32(v as number);
      break;
    case "sint32":
      w.sint32(v as number);
      break;
    case "fixed32":
      w.fixed32(v as number);
      break;
    case "sfixed32":
      w.sfixed32(v as number);
      break;
    case "int64":
    case "uint64":
      w.uint64(longBits(v as bigint));
      break;
    case "sint64":
      w.sint64(longBits(v as bigint));
      break;
    case "fixed64":
    case "sfixed64":
      w.fixed64(longBits(v as bigint));
      break;
    case "bool":
      w.bool(v as boolean);
      break;
    case "string":
      w.string(v as string);
      break;
    case "bytes":
      w.bytes(v as Uint8Array);
      break;
  }
}

/** protobufjs takes 64-bit values as {low, high}; two's complement covers negatives. */
function longBits(v: bigint): protobuf.Long {
  return {
    low: Number(v & 0xffffffffn) | 0,
    high: Number((v >> 32n) & 0xffffffffn) | 0,
    unsigned: false,
  } as protobuf.Long;
}

function wireType(type: ScalarType): Wire {
  switch (type) {
    case "double":
    case "fixed64":
    case "sfixed64":
      return Wire.Fixed64;
    case "float":
    case "fixed32":
    case "sfixed32":
      return Wire.Fixed32;
    case "string":
    case "bytes":
      return Wire.Len;
    default:
      return Wire.Varint;
  }
}

// ---- decoding ----

function readMessage(r: protobuf.Reader, info: MessageInfo, end: number, msg: Msg): Msg {
  while (r.pos < end) {
    const tag = r.uint32();
    const num = tag >>> 3;
    const wire = tag & 7;
    if (num === 0) throw new WireFormatError(`invalid field number 0 in ${info.fullName}`);
    const f = info.byNumber.get(num);
    if (!f) {
      r.skipType(wire);
      continue;
    }
    if (f.mapKey) {
      readMapEntry(r, f, (msg[f.name] ??= new Map()) as MsgMap);
    } else if (f.repeated) {
      const list = (msg[f.name] ??= []) as FieldValue[];
      if (
        wire === Wire.Len &&
        f.element.kind !== "message" &&
        !(f.element.kind === "scalar" && isLen(f.element.scalar))
      ) {
        const packedEnd = r.uint32() + r.pos;
        const type = f.element.kind === "scalar" ? f.element.scalar : "int32";
        while (r.pos < packedEnd) list.push(readRaw(r, type));
      } else if (matchesWire(f.element, wire)) {
        list.push(readElement(r, f.element, undefined));
      } else {
        r.skipType(wire); // a wire type that does not fit the field is an unknown field, as in protobuf-go
      }
    } else if (!matchesWire(f.element, wire)) {
      r.skipType(wire);
    } else {
      // A message field seen twice merges; a scalar seen twice keeps the last value.
      msg[f.name] = readElement(r, f.element, msg[f.name] as Msg | undefined);
      if (f.oneof) for (const other of info.oneofs.get(f.oneof)!) if (other !== f) delete msg[other.name];
    }
  }
  if (r.pos !== end) throw new WireFormatError(`truncated ${info.fullName}`);
  return msg;
}

function readMapEntry(r: protobuf.Reader, f: FieldInfo, map: MsgMap): void {
  const end = r.uint32() + r.pos;
  let key: MapKey = defaultScalar(f.mapKey!) as MapKey;
  let value: FieldValue | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) key = readRaw(r, f.mapKey!) as MapKey;
    else if (tag >>> 3 === 2) value = readElement(r, f.element, undefined);
    else r.skipType(tag & 7);
  }
  if (value === undefined) {
    value =
      f.element.kind === "message" ? {} : f.element.kind === "enum" ? 0 : defaultScalar(f.element.scalar);
  }
  map.set(key, value);
}

function readElement(r: protobuf.Reader, e: Element, existing: Msg | undefined): FieldValue {
  if (e.kind === "message") {
    const len = r.uint32();
    return readMessage(r, e.message(), r.pos + len, existing ?? {});
  }
  return readRaw(r, e.kind === "enum" ? "int32" : e.scalar);
}

function readRaw(r: protobuf.Reader, type: ScalarType): FieldValue {
  switch (type) {
    case "double":
      return r.double();
    case "float":
      return r.float();
    case "int32":
      return r.int32();
    case "uint32":
      return r.uint32();
    case "sint32":
      return r.sint32();
    case "fixed32":
      return r.fixed32();
    case "sfixed32":
      return r.sfixed32();
    case "int64":
      return BigInt.asIntN(64, toBigInt(r.int64()));
    case "uint64":
      return BigInt.asUintN(64, toBigInt(r.uint64()));
    case "sint64":
      return BigInt.asIntN(64, toBigInt(r.sint64()));
    case "fixed64":
      return BigInt.asUintN(64, toBigInt(r.fixed64()));
    case "sfixed64":
      return BigInt.asIntN(64, toBigInt(r.sfixed64()));
    case "bool":
      return r.bool();
    case "string":
      return r.string();
    case "bytes":
      return r.bytes();
  }
}

function toBigInt(v: protobuf.Long | number): bigint {
  if (typeof v === "number") return BigInt(v);
  return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
}

const isLen = (t: ScalarType): boolean => t === "string" || t === "bytes";

function matchesWire(e: Element, wire: number): boolean {
  if (e.kind === "message") return wire === Wire.Len;
  return wire === (e.kind === "enum" ? Wire.Varint : wireType(e.scalar));
}

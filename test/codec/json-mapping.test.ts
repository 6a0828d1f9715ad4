import { describe, expect, it } from "vitest";
import {
  decodeMessage,
  encodeMessage,
  fieldToJson,
  JsonMappingError,
  type JsonWriteOptions,
  messageFromJson,
  messageToJson,
} from "../../src/codec/index.js";
import { loadProtos } from "../../src/registry/load-protos.js";
import { ProtoRegistry } from "../../src/registry/registry.js";
import { TEST_PROTOS } from "../helpers/echo-server.js";

const registry = new ProtoRegistry(loadProtos([TEST_PROTOS]));
const kitchen = registry.findMessage("test.v1.Kitchen")!;
const read = { ignoreUnknownFields: false, resolve: registry.findMessage };
const write: JsonWriteOptions = {
  emitUnpopulated: false,
  useProtoNames: false,
  enumsAsNumbers: false,
  resolve: registry.findMessage,
};

/** JSON -> Msg -> binary -> Msg -> JSON, the way a request and its echo travel. */
function roundTrip(json: unknown, opts: JsonWriteOptions = write): unknown {
  const bytes = encodeMessage(kitchen, messageFromJson(kitchen, json, "", read));
  return messageToJson(kitchen, decodeMessage(kitchen, bytes), opts);
}

describe("proto3 JSON mapping: accepted inputs and canonical output", () => {
  const cases: Array<[string, unknown, unknown]> = [
    ["empty", {}, {}],
    ["string", { s: "héllo" }, { s: "héllo" }],
    ["defaults are not emitted", { s: "", i32: 0, b: false, rs: [], mss: {} }, {}],
    ["int32 from number and string", { i32: -5, u32: "7" }, { i32: -5, u32: 7 }],
    ["int32 in exponent form", { i32: 1e3, s32: "2e2" }, { i32: 1000, s32: 200 }],
    [
      "int64 family as strings",
      { i64: "-9223372036854775808", u64: "18446744073709551615", s64: -3, f64: "12", sf64: "-12" },
      { i64: "-9223372036854775808", u64: "18446744073709551615", s64: "-3", f64: "12", sf64: "-12" },
    ],
    ["fixed32 and sfixed32", { f32: 4294967295, sf32: -2147483648 }, { f32: 4294967295, sf32: -2147483648 }],
    ["float and double", { fl: 0.1, db: 1.5e300 }, { fl: 0.1, db: 1.5e300 }],
    ["non-finite floats", { fl: "NaN", db: "-Infinity" }, { fl: "NaN", db: "-Infinity" }],
    ["float from string", { db: "2.5" }, { db: 2.5 }],
    ["bool", { b: true }, { b: true }],
    ["bytes standard base64", { by: "AQID/w==" }, { by: "AQID/w==" }],
    ["bytes URL-safe, unpadded", { by: "AQID_w" }, { by: "AQID/w==" }],
    ["enum by name", { color: "COLOR_RED" }, { color: "COLOR_RED" }],
    ["enum by number", { color: 2 }, { color: "COLOR_GREEN" }],
    ["unknown enum number kept (open enum)", { color: 42 }, { color: 42 }],
    ["nested message", { inner: { name: "a", child: { n: 2 } } }, { inner: { name: "a", child: { n: 2 } } }],
    ["empty nested message is present", { inner: {} }, { inner: {} }],
    [
      "repeated",
      { rs: ["a", "b"], ri64: ["1", 2], rcolor: ["COLOR_RED", 2] },
      { rs: ["a", "b"], ri64: ["1", "2"], rcolor: ["COLOR_RED", "COLOR_GREEN"] },
    ],
    ["repeated messages", { rinner: [{ name: "x" }, {}] }, { rinner: [{ name: "x" }, {}] }],
    ["packed ints", { packedI32: [1, -1, 300] }, { packedI32: [1, -1, 300] }],
    [
      "maps with non-string keys",
      { mss: { a: "1" }, mi: { "-1": { n: 1 } }, mb: { true: "5", false: 0 } },
      { mss: { a: "1" }, mi: { "-1": { n: 1 } }, mb: { true: "5", false: "0" } },
    ],
    ["oneof member at default is emitted", { ob: 0 }, { ob: 0 }],
    ["oneof message", { oc: { name: "z" } }, { oc: { name: "z" } }],
    ["proto3 optional at default is emitted", { opt: 0 }, { opt: 0 }],
    ["json_name", { customName: "c" }, { customName: "c" }],
    ["proto names accepted", { json_named: "c", packed_i32: [1] }, { customName: "c", packedI32: [1] }],
    ["null means unset", { s: null, inner: null, rs: null, color: null }, {}],
    ["timestamp", { ts: "2024-02-29T23:59:59.5+01:00" }, { ts: "2024-02-29T22:59:59.500Z" }],
    ["timestamp limits", { ts: "0001-01-01T00:00:00Z" }, { ts: "0001-01-01T00:00:00Z" }],
    ["timestamp nanos", { ts: "9999-12-31T23:59:59.999999999Z" }, { ts: "9999-12-31T23:59:59.999999999Z" }],
    ["timestamp micros", { ts: "1970-01-01T00:00:00.000001Z" }, { ts: "1970-01-01T00:00:00.000001Z" }],
    ["timestamp before epoch", { ts: "1969-12-31T23:59:59.250Z" }, { ts: "1969-12-31T23:59:59.250Z" }],
    ["duration", { dur: "1.5s" }, { dur: "1.500s" }],
    ["negative duration", { dur: "-0.000000001s" }, { dur: "-0.000000001s" }],
    ["zero duration", { dur: "0s" }, { dur: "0s" }],
    ["field mask", { mask: "a,bC.dE" }, { mask: "a,bC.dE" }],
    ["empty field mask", { mask: "" }, { mask: "" }],
    [
      "struct",
      { st: { a: 1, b: [true, null, "x"], c: { d: {} } } },
      { st: { a: 1, b: [true, null, "x"], c: { d: {} } } },
    ],
    ["value null", { val: null }, { val: null }],
    ["value number", { val: 3.5 }, { val: 3.5 }],
    ["value list", { lv: [1, "a", null] }, { lv: [1, "a", null] }],
    ["wrappers", { w64: "12", wstr: "", wbool: false }, { w64: "12", wstr: "", wbool: false }],
    ["wrapper from number", { w64: 12 }, { w64: "12" }],
    [
      "any of a message",
      { any: { "@type": "type.googleapis.com/test.v1.Inner", name: "x", n: 3 } },
      { any: { "@type": "type.googleapis.com/test.v1.Inner", name: "x", n: 3 } },
    ],
    [
      "any of a WKT",
      { any: { "@type": "type.googleapis.com/google.protobuf.Duration", value: "2s" } },
      { any: { "@type": "type.googleapis.com/google.protobuf.Duration", value: "2s" } },
    ],
    ["empty any", { any: {} }, { any: {} }],
    ["empty", { empty: {} }, { empty: {} }],
    ["null value enum", { nul: null }, {}],
  ];
  it.each(cases)("%s", (_name, input, output) => {
    expect(roundTrip(input)).toEqual(output);
  });
});

describe("keys that JavaScript objects treat specially", () => {
  // JSON.parse makes "__proto__" an own key; an object literal would set the prototype instead.
  const json = JSON.parse(
    '{"mss":{"__proto__":"p","constructor":"c"},"st":{"__proto__":{"toString":1}},"mi":{"1":{"name":"n"}}}',
  );
  it("keeps a map key or Struct field named __proto__ on the way through (generated codec)", () => {
    expect(JSON.stringify(roundTrip(json))).toBe(
      '{"mss":{"__proto__":"p","constructor":"c"},"mi":{"1":{"name":"n"}},"st":{"__proto__":{"toString":1}}}',
    );
  });
  it("keeps it in a response_body field too (reflective path)", () => {
    const msg = decodeMessage(kitchen, encodeMessage(kitchen, messageFromJson(kitchen, json, "", read)));
    const mss = kitchen.byName.get("mss")!;
    expect(JSON.stringify(fieldToJson(mss, msg.mss!, write))).toBe('{"__proto__":"p","constructor":"c"}');
    expect(Object.getPrototypeOf(fieldToJson(mss, msg.mss!, write))).toBe(Object.prototype);
  });
});

describe("proto3 JSON mapping: rejected inputs name the field", () => {
  const cases: Array<[unknown, string]> = [
    [{ i32: 2147483648 }, "i32"],
    [{ i32: -2147483649 }, "i32"],
    [{ u32: -1 }, "u32"],
    [{ i32: 1.5 }, "i32"],
    [{ i32: "1.5" }, "i32"],
    [{ i32: "abc" }, "i32"],
    [{ i32: " 1" }, "i32"],
    [{ i32: true }, "i32"],
    [{ i64: "9223372036854775808" }, "i64"],
    [{ u64: "-1" }, "u64"],
    [{ i64: 1.5 }, "i64"],
    [{ fl: 3.5e38 }, "fl"],
    [{ db: "infinity" }, "db"],
    [{ b: "true" }, "b"],
    [{ b: 1 }, "b"],
    [{ s: 5 }, "s"],
    [{ by: "not base64!" }, "by"],
    [{ by: "A" }, "by"],
    [{ color: "PURPLE" }, "color"],
    [{ color: 1.5 }, "color"],
    [{ inner: "x" }, "inner"],
    [{ inner: { nope: 1 } }, "inner"],
    [{ inner: { child: { n: "x" } } }, "inner.child.n"],
    [{ rs: "a" }, "rs"],
    [{ rs: [null] }, "rs[0]"],
    [{ ri64: ["x"] }, "ri64[0]"],
    [{ mi: { x: {} } }, 'mi["x"]'],
    [{ mb: { yes: 1 } }, 'mb["yes"]'],
    [{ mss: { a: null } }, 'mss["a"]'],
    [{ oa: "x", ob: 1 }, "ob"],
    [{ ts: "2024-02-30T00:00:00Z" }, "ts"],
    [{ ts: "2024-01-01 00:00:00Z" }, "ts"],
    [{ ts: "2024-01-01T00:00:00" }, "ts"],
    [{ ts: "10000-01-01T00:00:00Z" }, "ts"],
    [{ dur: "1.5" }, "dur"],
    [{ dur: "315576000001s" }, "dur"],
    [{ mask: "a_b" }, "mask"],
    [{ any: { "@type": "type.googleapis.com/no.Such", x: 1 } }, "any"],
    [{ any: { name: "x" } }, "any"],
    [{ s: "a", S: "b" }, ""],
    [{ customName: "a", json_named: "b" }, "json_named"],
    [{ unknownField: 1 }, ""],
  ];
  it.each(cases)("%j", (input, path) => {
    let err: unknown;
    try {
      messageFromJson(kitchen, input, "", read);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(JsonMappingError);
    expect((err as JsonMappingError).path).toBe(path);
  });

  it("should ignore unknown fields when configured", () => {
    expect(messageFromJson(kitchen, { nope: 1, s: "x" }, "", { ...read, ignoreUnknownFields: true })).toEqual(
      { s: "x" },
    );
  });
});

describe("output options", () => {
  it("should emit unpopulated fields with implicit presence only (not messages, oneofs, optionals)", () => {
    const out = roundTrip({ s: "x" }, { ...write, emitUnpopulated: true }) as Record<string, unknown>;
    expect(out).toMatchObject({
      s: "x",
      i32: 0,
      i64: "0",
      b: false,
      by: "",
      color: "COLOR_UNSPECIFIED",
      rs: [],
      mss: {},
      customName: "",
    });
    expect(out).not.toHaveProperty("oa");
    expect(out).not.toHaveProperty("opt");
    expect(out).not.toHaveProperty("inner");
    expect(out).not.toHaveProperty("ts");
  });
  it("should use proto names and enum numbers when asked", () => {
    expect(
      roundTrip(
        { customName: "a", packedI32: [1], color: "COLOR_RED" },
        { ...write, useProtoNames: true, enumsAsNumbers: true },
      ),
    ).toEqual({
      json_named: "a",
      packed_i32: [1],
      color: 1,
    });
  });
});

describe("nesting limit", () => {
  const nest = (depth: number): unknown => {
    let v: Record<string, unknown> = {};
    for (let i = 0; i < depth; i++) v = { child: v };
    return { inner: v };
  };
  const deepStruct = (depth: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = { k: v };
    return { st: v };
  };
  it("should accept messages nested below the limit", () => {
    expect(() => messageFromJson(kitchen, nest(90), "", read)).not.toThrow();
    expect(() => messageFromJson(kitchen, deepStruct(45), "", read)).not.toThrow();
  });
  it.each([
    ["recursive messages", nest(5000)],
    ["Struct", deepStruct(5000)],
    ["ListValue", { lv: JSON.parse(`${"[".repeat(5000)}${"]".repeat(5000)}`) }],
  ])("should reject %s nested too deep with a mapping error, not a stack overflow", (_name, json) => {
    expect(() => messageFromJson(kitchen, json, "", read)).toThrow(/nested more than 100 levels deep/);
  });
});

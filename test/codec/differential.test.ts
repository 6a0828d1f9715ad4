import { fromBinary, fromJson, fromJsonString, toBinary, toJson } from "@bufbuild/protobuf";
import { beforeAll, describe, expect, it } from "vitest";
import {
  decodeMessage,
  encodeMessage,
  JsonMappingError,
  type JsonWriteOptions,
  type MessageInfo,
  messageFromJson,
  messageFromJsonText,
  messageToJson,
} from "../../src/codec/index.js";
import { loadProtos } from "../../src/registry/load-protos.js";
import { ProtoRegistry } from "../../src/registry/registry.js";
import { TEST_PROTOS } from "../helpers/echo-server.js";
import { kitchenJson } from "../helpers/kitchen-gen.js";
import { loadOracle, type Oracle } from "../helpers/oracle.js";
import { rng } from "../helpers/random.js";

/**
 * protogate's codec against @bufbuild/protobuf, on hundreds of seeded random inputs:
 * the same JSON must give the same bytes on the wire, and the same bytes the same JSON out.
 */

const CASES = 800;
const SEED = 20261122;

let oracle: Oracle;
const registry = new ProtoRegistry(loadProtos([TEST_PROTOS]));
const kitchen = registry.findMessage("test.v1.Kitchen")!;
const read = { ignoreUnknownFields: false, resolve: registry.findMessage };

beforeAll(() => {
  oracle = loadOracle(TEST_PROTOS);
});

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/**
 * The one tolerated difference: a `float` read off the wire is printed by protogate as the shortest
 * decimal that is the same float32 (0.1, as protobuf-go and C++ print it); @bufbuild/protobuf prints the
 * widened double (0.10000000149011612). Both parse back to the same float32, so compare them as float32.
 */
function normaliseFloats(json: unknown, info: MessageInfo): unknown {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return json;
  const out: Record<string, unknown> = { ...(json as Record<string, unknown>) };
  for (const f of info.fields) {
    for (const key of [f.name, f.jsonName]) {
      if (!(key in out)) continue;
      if (f.element.kind === "scalar" && f.element.scalar === "float") {
        const norm = (v: unknown) => (typeof v === "number" ? Math.fround(v) : v);
        out[key] = Array.isArray(out[key]) ? (out[key] as unknown[]).map(norm) : norm(out[key]);
      }
    }
  }
  return out;
}

const OUTPUT_OPTIONS: Array<[string, Omit<JsonWriteOptions, "resolve">]> = [
  ["defaults", { emitUnpopulated: false, useProtoNames: false, enumsAsNumbers: false }],
  [
    "emitUnpopulated + useProtoNames + enumsAsNumbers",
    { emitUnpopulated: true, useProtoNames: true, enumsAsNumbers: true },
  ],
];

describe(`differential against @bufbuild/protobuf (${CASES} seeded inputs, seed ${SEED})`, () => {
  const r = rng(SEED);
  const inputs = Array.from({ length: CASES }, () => kitchenJson(r));

  it("should put the same bytes on the wire for the same JSON", () => {
    const schema = oracle.message("test.v1.Kitchen");
    inputs.forEach((json, i) => {
      const ours = encodeMessage(kitchen, messageFromJson(kitchen, json, "", read));
      const theirs = toBinary(schema, fromJson(schema, json as never, { registry: oracle.registry }));
      expect(hex(ours), `case ${i}: ${JSON.stringify(json)}`).toBe(hex(theirs));
    });
  });

  it.each(OUTPUT_OPTIONS)("should print the same JSON for the same bytes (%s)", (_name, options) => {
    const schema = oracle.message("test.v1.Kitchen");
    inputs.forEach((json, i) => {
      const bytes = toBinary(schema, fromJson(schema, json as never, { registry: oracle.registry }));
      const ours = messageToJson(kitchen, decodeMessage(kitchen, bytes), {
        ...options,
        resolve: registry.findMessage,
      });
      const theirs = toJson(schema, fromBinary(schema, bytes), {
        registry: oracle.registry,
        alwaysEmitImplicit: options.emitUnpopulated,
        useProtoFieldName: options.useProtoNames,
        enumAsInteger: options.enumsAsNumbers,
      });
      expect(normaliseFloats(ours, kitchen), `case ${i}: ${JSON.stringify(json)}`).toEqual(
        normaliseFloats(theirs, kitchen),
      );
    });
  });

  it("should read back what it prints (JSON -> binary -> JSON -> binary is stable)", () => {
    const write = {
      emitUnpopulated: false,
      useProtoNames: false,
      enumsAsNumbers: false,
      resolve: registry.findMessage,
    };
    inputs.forEach((json, i) => {
      const once = encodeMessage(kitchen, messageFromJson(kitchen, json, "", read));
      // The printed JSON value, not its text: JSON.stringify writes -0 as 0 (the oracle's toJsonString too).
      const printed = messageToJson(kitchen, decodeMessage(kitchen, once), write);
      const twice = encodeMessage(kitchen, messageFromJson(kitchen, printed, "", read));
      expect(hex(twice), `case ${i}`).toBe(hex(once));
    });
  });
});

describe("inputs both must reject", () => {
  const invalid: unknown[] = [
    { i32: 2147483648 },
    { i32: -2147483649 },
    { i32: 1.5 },
    { i32: "1.5" },
    { i32: "" },
    { i32: true },
    { u32: -1 },
    { u32: 4294967296 },
    { i64: "9223372036854775808" },
    { i64: "-9223372036854775809" },
    { i64: "1.5" },
    { i64: 1.5 },
    { u64: "-1" },
    { u64: "18446744073709551616" },
    { fl: 3.4028236e38 },
    { fl: "nan" },
    { db: "inf" },
    { db: true },
    { b: "true" },
    { b: 0 },
    { s: 1 },
    { s: ["a"] },
    { by: "@@@@" },
    { by: "A" },
    { color: "RED" },
    { color: 1.5 },
    { color: true },
    { inner: "x" },
    { inner: [] },
    { inner: { nope: 1 } },
    { rs: "a" },
    { rs: [1] },
    { rs: [null] },
    { rinner: [1] },
    { mss: [] },
    { mss: { a: 1 } },
    { mi: { x: {} } },
    { mi: { "1.5": {} } },
    { mb: { yes: "1" } },
    { oa: "a", ob: 1 },
    { oa: "a", oc: {} },
    { ts: "2024-01-01T00:00:00" },
    { ts: "2024-01-01 00:00:00Z" },
    { ts: "10000-01-01T00:00:00Z" },
    { ts: "2024-01-01T25:00:00Z" },
    { ts: 0 },
    { dur: "1" },
    { dur: "1.5ms" },
    { dur: "315576000001s" },
    { dur: 1 },
    { mask: "a_b" },
    { mask: 1 },
    { st: [] },
    { st: 1 },
    { lv: {} },
    { w64: "x" },
    { wbool: "true" },
    { any: { "@type": "type.googleapis.com/no.Such" } },
    { any: { name: "x" } },
    { any: { "@type": "type.googleapis.com/google.protobuf.Duration", value: "x" } },
    { empty: { a: 1 } },
    { unknownField: 1 },
    { customName: "a", json_named: "b" },
  ];
  it.each(invalid.map((j) => [JSON.stringify(j), j] as const))("%s", (_s, json) => {
    const schema = oracle.message("test.v1.Kitchen");
    expect(
      () => fromJson(schema, json as never, { registry: oracle.registry }),
      "the oracle accepts it",
    ).toThrow();
    expect(() => messageFromJson(kitchen, json, "", read)).toThrow(JsonMappingError);
  });
});

/**
 * Issue #20 points 1-2 as JSON text, the form only a text reader sees: JSON.parse collapses duplicate
 * keys and reads 1e400 as Infinity. The oracle's fromJsonString and protogate's messageFromJsonText.
 */
describe("JSON texts both must reject", () => {
  const invalid: string[] = [
    // lone surrogate escapes (not Unicode)
    '{"s":"a\\udca0b"}',
    '{"s":"\\ud800"}',
    '{"s":"\\udc00\\ud800"}',
    '{"rs":["ok","\\ud83d"]}',
    '{"mss":{"\\udca0":"v"}}',
    '{"mss":{"k":"\\udca0"}}',
    '{"wstr":"\\udca0"}',
    '{"inner":{"name":"\\udfff"}}',
    // numbers out of range
    '{"db":1.89769e308}',
    '{"db":1e400}',
    '{"db":-1e400}',
    '{"fl":1e400}',
    '{"i64":1e400}',
    '{"u32":1e400}',
    // a key twice
    '{"s":"a","s":"b"}',
    '{"s":null,"s":"b"}',
    '{"s":"a","\\u0073":"b"}',
    '{"inner":{"n":1,"n":2}}',
    '{"rinner":[{},{"name":"a","name":"b"}]}',
    '{"mss":{"k":"a","k":"b"}}',
    '{"st":{"a":1,"a":2}}',
    '{"any":{"@type":"type.googleapis.com/test.v1.Inner","n":1,"n":2}}',
    '{"json_named":"a","customName":"b"}',
    '{"json_named":null,"customName":"b"}',
    '{"customName":"b","json_named":null}',
    '{"mi":{"0":{},"-0":{}}}',
  ];
  it.each(invalid)("%s", (text) => {
    const schema = oracle.message("test.v1.Kitchen");
    expect(
      () => toBinary(schema, fromJsonString(schema, text, { registry: oracle.registry })),
      "the oracle accepts it",
    ).toThrow();
    expect(() => messageFromJsonText(kitchen, text, read)).toThrow(JsonMappingError);
  });

  it("and both read a valid surrogate pair alike", () => {
    const schema = oracle.message("test.v1.Kitchen");
    const text = '{"s":"\\ud83d\\ude00","mss":{"\\uD83D\\uDE00":"x"}}';
    const theirs = toBinary(schema, fromJsonString(schema, text, { registry: oracle.registry }));
    expect(hex(encodeMessage(kitchen, messageFromJsonText(kitchen, text, read)))).toBe(hex(theirs));
  });
});

describe("inputs protogate rejects where the oracle is lenient", () => {
  // The proto3 JSON mapping takes decimal integers only, and a timestamp must be a real date;
  // protobuf-go rejects these too. @bufbuild/protobuf accepts them (Number("0x10"), Date rolling
  // February 30th over to March 1st).
  const stricter: unknown[] = [
    { i32: "0x10" },
    { u64: "0b11" },
    { ts: "2024-02-30T00:00:00Z" },
    { ts: "2023-02-29T00:00:00Z" },
  ];
  it.each(stricter.map((j) => [JSON.stringify(j), j] as const))("%s", (_s, json) => {
    expect(() => messageFromJson(kitchen, json, "", read)).toThrow(JsonMappingError);
  });
});

describe("JSON texts protogate rejects where the oracle is lenient", () => {
  // Struct, Value and ListValue hold strings and numbers like any other field (protobuf-go rejects
  // these); the oracle checks UTF-8 and finiteness only for typed fields.
  const stricter: string[] = [
    '{"st":{"\\udca0":1}}',
    '{"val":"\\ud800"}',
    '{"lv":["\\ud800"]}',
    '{"val":1e400}',
    '{"st":{"a":-1e400}}',
    '{"lv":[1e400]}',
  ];
  it.each(stricter)("%s", (text) => {
    const schema = oracle.message("test.v1.Kitchen");
    expect(() => toBinary(schema, fromJsonString(schema, text, { registry: oracle.registry }))).not.toThrow();
    expect(() => messageFromJsonText(kitchen, text, read)).toThrow(JsonMappingError);
  });
});

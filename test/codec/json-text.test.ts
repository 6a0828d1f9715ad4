import { isUtf8 } from "node:buffer";
import { describe, expect, it } from "vitest";
import {
  decodeMessage,
  encodeMessage,
  JsonMappingError,
  JsonTextError,
  messageFromJsonText,
  messageToJson,
  parseJsonText,
} from "../../src/codec/index.js";
import { loadProtos } from "../../src/registry/load-protos.js";
import { ProtoRegistry } from "../../src/registry/registry.js";
import { anyOfAny, bytes } from "../hardening/inputs.js";
import { TEST_PROTOS } from "../helpers/echo-server.js";
import { rng } from "../helpers/random.js";

/** Issue #20 points 1, 2 and 4: what JSON.parse lets through and the proto3 JSON mapping does not. */

const registry = new ProtoRegistry(loadProtos([TEST_PROTOS]));
const kitchen = registry.findMessage("test.v1.Kitchen")!;
const read = { ignoreUnknownFields: false, resolve: registry.findMessage };
const readLenient = { ...read, ignoreUnknownFields: true };
const write = {
  emitUnpopulated: false,
  useProtoNames: false,
  enumsAsNumbers: false,
  resolve: registry.findMessage,
};

describe("parseJsonText: the bytes are UTF-8", () => {
  const invalid: Array<[string, Buffer]> = [
    ["\\xff\\xfe", bytes('{"s":"', [0xff, 0xfe], '"}')],
    ["overlong / (\\xc0\\xaf)", bytes('{"s":"a', [0xc0, 0xaf], '"}')],
    ["overlong NUL (\\xe0\\x80\\x80)", bytes('{"s":"', [0xe0, 0x80, 0x80], '"}')],
    ["truncated 3-byte sequence", bytes('{"s":"', [0xe2, 0x82], '"}')],
    ["truncated at the end of the body", bytes('{"s":"x"}', [0xf0, 0x9f])],
    ["a lone continuation byte", bytes('{"s":"', [0x80], '"}')],
    ["an encoded surrogate (\\xed\\xa0\\x80)", bytes('{"s":"', [0xed, 0xa0, 0x80], '"}')],
    ["beyond U+10FFFF (\\xf4\\x90\\x80\\x80)", bytes('{"s":"', [0xf4, 0x90, 0x80, 0x80], '"}')],
    ["in a key", bytes('{"', [0xff], '":1}')],
    ["in a map key", bytes('{"mss":{"', [0xc0, 0xaf], '":"v"}}')],
    ["in a Struct key", bytes('{"st":{"', [0xff], '":1}}')],
    ["outside any string", bytes('{"s":"x"', [0xff], "}")],
  ];
  it.each(invalid)("should reject %s", (_name, body) => {
    expect(() => parseJsonText(body)).toThrow(JsonTextError);
    expect(() => parseJsonText(body)).toThrow(/not valid UTF-8/);
  });

  it("should accept a U+FFFD that was sent (\\xef\\xbf\\xbd), and still reject a bad byte beside one", () => {
    expect(parseJsonText(bytes('{"s":"a', [0xef, 0xbf, 0xbd], 'b"}'))).toEqual({ s: "a\uFFFDb" });
    expect(() => parseJsonText(bytes('{"s":"', [0xef, 0xbf, 0xbd, 0xff], '"}'))).toThrow(/not valid UTF-8/);
  });

  it("should accept exactly the bytes node:buffer's isUtf8 accepts (property, seeded)", () => {
    const r = rng(2026120701);
    // bytes JSON allows in a string as they are: no control character, quote or backslash
    const edges = [
      0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x9f, 0xa0,
    ];
    let rejected = 0;
    for (let i = 0; i < 20_000; i++) {
      const inner = Array.from({ length: 1 + r.int(8) }, () => {
        const b = r.chance(0.7) ? r.pick(edges) : 0x20 + r.int(0xe0);
        return b === 0x22 || b === 0x5c ? 0x61 : b;
      });
      const body = bytes('{"s":"', inner, '"}');
      const valid = isUtf8(body);
      if (!valid) rejected++;
      if (valid)
        expect(parseJsonText(body), `case ${i}: ${inner}`).toEqual({ s: Buffer.from(inner).toString() });
      else expect(() => parseJsonText(body), `case ${i}: ${inner}`).toThrow(/not valid UTF-8/);
    }
    expect(rejected).toBeGreaterThan(5_000); // the cases reach both answers
  });

  it("should accept well-formed multi-byte text", () => {
    const body = Buffer.from('{"s":"é€😀","mss":{"ключ":"值"}}', "utf8");
    expect(messageFromJsonText(kitchen, body, read)).toMatchObject({ s: "é€😀" });
  });
});

describe("parseJsonText: strings are Unicode (no lone surrogate escape)", () => {
  const invalid: Array<[string, string]> = [
    ["a field", '{"s":"a\\udca0b"}'],
    ["a high surrogate at the end", '{"s":"a\\ud800"}'],
    ["a low surrogate first", '{"s":"\\udc00\\ud800"}'],
    ["upper-case hex", '{"s":"\\uDCA0"}'],
    ["a repeated field", '{"rs":["ok","\\ud83d"]}'],
    ["a map key", '{"mss":{"\\udca0":"v"}}'],
    ["a map value", '{"mss":{"k":"\\udca0"}}'],
    ["a Struct key", '{"st":{"\\udca0":1}}'],
    ["a Struct value", '{"st":{"a":{"b":["\\udca0"]}}}'],
    ["a Value", '{"val":"\\ud800"}'],
    ["a ListValue", '{"lv":["\\ud800"]}'],
    ["a wrapper", '{"wstr":"\\udca0"}'],
    ["a field mask", '{"mask":"a\\udca0"}'],
    ["a field inside Any", '{"any":{"@type":"type.googleapis.com/test.v1.Inner","name":"\\udca0"}}'],
    ["an unknown field's key, even when unknown fields are ignored", '{"\\udca0":1}'],
  ];
  it.each(invalid)("should reject one in %s", (_name, text) => {
    expect(() => messageFromJsonText(kitchen, text, readLenient)).toThrow(JsonMappingError);
    expect(() => messageFromJsonText(kitchen, Buffer.from(text), readLenient)).toThrow(/not valid Unicode/);
  });

  it("should name the JSON path of the lone surrogate", () => {
    expect(() => parseJsonText('{"st":{"a":[1,"\\udca0"]}}')).toThrow('field "st.a[1]"');
  });

  const valid: Array<[string, string, string]> = [
    ["an escaped pair", '{"s":"\\ud83d\\ude00"}', "😀"],
    ["a pair in upper case", '{"s":"\\uD83D\\uDE00"}', "😀"],
    ["an escaped backslash before u", '{"s":"\\\\udca0"}', "\\udca0"],
    ["a BMP escape", '{"s":"\\u00e9"}', "é"],
  ];
  it.each(valid)("should accept %s", (_name, text, s) => {
    expect(messageFromJsonText(kitchen, text, read).s).toBe(s);
  });
});

describe("parseJsonText: no key twice in one object", () => {
  const invalid: Array<[string, string]> = [
    ["the same field", '{"s":"a","s":"b"}'],
    ["the same field, null first", '{"s":null,"s":"b"}'],
    ["the same key, once escaped", '{"s":"a","\\u0073":"b"}'],
    ["in a nested message", '{"inner":{"n":1,"n":2}}'],
    ["in a repeated message", '{"rinner":[{},{"name":"a","name":"b"}]}'],
    ["in a map", '{"mss":{"k":"a","k":"b"}}'],
    ["in a Struct", '{"st":{"a":1,"a":2}}'],
    ["in a Value", '{"val":{"x":{"y":1,"y":1}}}'],
    ["in an Any", '{"any":{"@type":"type.googleapis.com/test.v1.Inner","n":1,"n":2}}'],
    [
      "@type twice",
      '{"any":{"@type":"type.googleapis.com/test.v1.Inner","@type":"type.googleapis.com/test.v1.Inner"}}',
    ],
    ["a large object", `{${Array.from({ length: 40 }, (_, i) => `"k${i}":1`).join(",")},"k7":2}`],
    ["an unknown field, even when unknown fields are ignored", '{"zz":1,"zz":2}'],
    ["after a nested object has closed", '{"inner":{"n":1},"s":"a","inner":{}}'],
    [
      "the 17th key of an object naming the first",
      `{${Array.from({ length: 16 }, (_, i) => `"k${i}":1`).join(",")},"k0":2}`,
    ],
  ];
  it.each(invalid)("should reject a key twice: %s", (_name, text) => {
    expect(() => messageFromJsonText(kitchen, text, readLenient)).toThrow(JsonTextError);
    expect(() => messageFromJsonText(kitchen, text, readLenient)).toThrow(/twice in one object/);
  });

  const valid: Array<[string, string]> = [
    ["the same key in sibling objects", '{"rinner":[{"name":"a"},{"name":"b"}]}'],
    ["the same key at two depths", '{"inner":{"name":"a","child":{"name":"a"}}}'],
    ["a key that looks like a value", '{"s":"s","mss":{"s":"s"}}'],
    ["quotes and colons in strings", '{"s":"\\"a\\":1,","mss":{"a\\"b":"{\\"c\\":[","b":":"}}'],
    ["objects after arrays", '{"rs":["a","b"],"st":{"a":[{"a":1},{"a":2}],"b":{"a":1}},"s":"x"}'],
    ["keys of one length", '{"st":{"ab":1,"ba":2,"aa":3}}'],
    ["a key that is another's prefix", '{"st":{"a":1,"ab":2,"abc":3}}'],
  ];
  it.each(valid)("should accept %s", (_name, text) => {
    expect(() => messageFromJsonText(kitchen, text, read)).not.toThrow();
  });

  // Random JSON objects whose keys come from a small alphabet, so that some repeat a sibling's
  // (escaped or not); the verdict is known by construction.
  it("should find exactly the objects that name a key twice (random texts, seeded)", () => {
    for (let seed = 1; seed <= 400; seed++) {
      const r = rng(seed);
      let twice = false;
      const key = (): [string, string] => {
        const k = r.pick(["a", "b", "ab", "ba", "k", "key", "ke\u0079", "\u0061"]);
        return [k, JSON.parse(`"${k}"`) as string];
      };
      const value = (depth: number): string => {
        if (depth > 3 || r.chance(0.4)) return r.pick(["1", '"a"', '"{\\"a\\":1}"', "null", "[]"]);
        if (r.chance(0.3)) return `[${Array.from({ length: r.int(3) }, () => value(depth + 1)).join(",")}]`;
        const seen = new Set<string>();
        const members = Array.from({ length: r.int(r.chance(0.1) ? 20 : 5) }, () => {
          const [raw, decoded] = key();
          if (seen.has(decoded)) twice = true;
          seen.add(decoded);
          return `"${raw}":${value(depth + 1)}`;
        });
        return `{${members.join(",")}}`;
      };
      const text = value(0);
      if (twice) expect(() => parseJsonText(text), `seed ${seed}: ${text}`).toThrow(/twice in one object/);
      else expect(() => parseJsonText(text), `seed ${seed}: ${text}`).not.toThrow();
    }
  });

  const names: Array<[string, string]> = [
    ["proto and JSON names", '{"json_named":"a","customName":"b"}'],
    ["proto and JSON names, null first", '{"json_named":null,"customName":"b"}'],
    ["JSON and proto names, null last", '{"customName":"b","json_named":null}'],
    ["one int32 map key twice (0 and -0)", '{"mi":{"0":{},"-0":{}}}'],
    ["one map key twice, -0 first", '{"mb":{"true":"1"},"mi":{"-0":{"n":1},"0":{"n":2}}}'],
  ];
  it.each(names)("should reject one field or map key named twice: %s", (_name, text) => {
    expect(() => messageFromJsonText(kitchen, text, read)).toThrow(JsonMappingError);
  });
});

describe("numbers out of range", () => {
  const invalid: Array<[string, string]> = [
    ["1.89769e308 for a double", '{"db":1.89769e308}'],
    ["1e400 for a double", '{"db":1e400}'],
    ["-1e400 for a double", '{"db":-1e400}'],
    ["1e400 in a repeated message's Value", '{"rinner":[],"val":1e400}'],
    ["1e400 in a Struct", '{"st":{"a":{"b":-1e400}}}'],
    ["1e400 in a ListValue", '{"lv":[1,1e400]}'],
    ["1e400 for a float", '{"fl":1e400}'],
    ["1e400 for an int64", '{"i64":1e400}'],
    ['"1e400" for a double', '{"db":"1e400"}'],
  ];
  it.each(invalid)("should reject %s", (_name, text) => {
    expect(() => messageFromJsonText(kitchen, text, read)).toThrow(JsonMappingError);
  });

  it("should keep the largest finite double and the NaN/Infinity strings", () => {
    const msg = messageFromJsonText(kitchen, '{"db":1.7976931348623157e308,"rinner":[{"n":1}]}', read);
    expect(msg.db).toBe(Number.MAX_VALUE);
    expect(messageFromJsonText(kitchen, '{"db":"-Infinity"}', read).db).toBe(-Infinity);
    expect(messageFromJsonText(kitchen, '{"val":1e-400}', read).val).toEqual({ number_value: 0 });
  });
});

describe("one depth limit through every recursive path", () => {
  it("should accept Any wrapping Any within the limit", () => {
    const msg = messageFromJsonText(kitchen, anyOfAny(90), read);
    const back = messageToJson(kitchen, decodeMessage(kitchen, encodeMessage(kitchen, msg)), write);
    expect(JSON.stringify(back)).toContain('"value":"1.500s"');
  });

  it.each([101, 150, 5000, 20000])(
    "should reject Any wrapping Any %i levels deep, without a stack overflow",
    (n) => {
      expect(() => messageFromJsonText(kitchen, anyOfAny(n), read)).toThrow(
        /nested more than 100 levels deep/,
      );
    },
  );

  const deep: Array<[string, string]> = [
    ["messages", `{"inner":${'{"child":'.repeat(150)}{}${"}".repeat(150)}}`],
    [
      "Struct in Any",
      `{"any":{"@type":"type.googleapis.com/google.protobuf.Struct","value":${'{"a":'.repeat(150)}1${"}".repeat(150)}}}`,
    ],
    ["ListValue", `{"lv":${"[".repeat(150)}${"]".repeat(150)}}`],
    [
      "Value in Any in Any",
      `{"any":{"@type":"type.googleapis.com/google.protobuf.Any","value":{"@type":"type.googleapis.com/google.protobuf.Value","value":${"[".repeat(150)}${"]".repeat(150)}}}}`,
    ],
    [
      "Any in a message in Any",
      `{"any":${'{"@type":"type.googleapis.com/test.v1.Kitchen","any":'.repeat(120)}{}${"}".repeat(120)}}`,
    ],
  ];
  it.each(deep)("should reject nesting past 100 through %s", (_name, text) => {
    expect(() => messageFromJsonText(kitchen, text, read)).toThrow(/nested more than 100 levels deep/);
  });

  it("should refuse to decode binary nested past the limit (a backend's answer), without a stack overflow", () => {
    // Inner.child (field 3) nested 5000 times, built from the inside out.
    let inner: Buffer = Buffer.alloc(0);
    for (let i = 0; i < 5000; i++) inner = Buffer.concat([Buffer.from([0x1a]), varint(inner.length), inner]);
    const info = registry.findMessage("test.v1.Inner")!;
    expect(() => decodeMessage(info, inner)).toThrow(/nested more than 100 levels deep/);
  });

  it("should refuse to render Any wrapping Any past the limit", () => {
    const info = registry.findMessage("google.protobuf.Any")!;
    let any = { type_url: "type.googleapis.com/test.v1.Inner", value: new Uint8Array(0) } as Record<
      string,
      unknown
    >;
    for (let i = 0; i < 300; i++)
      any = { type_url: "type.googleapis.com/google.protobuf.Any", value: encodeMessage(info, any as never) };
    expect(() => messageToJson(kitchen, { any } as never, write)).toThrow(/nested more than 100 levels deep/);
  });
});

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

describe("parseJsonText on random bytes and text (property, seeded)", () => {
  it("either parses to what JSON.parse gives or throws a JsonMappingError, never anything else", () => {
    const r = rng(2026113001);
    const alphabet = [
      "{",
      "}",
      "[",
      "]",
      '"',
      ":",
      ",",
      "\\",
      "u",
      "d",
      "8",
      "0",
      "a",
      "1",
      " ",
      "e",
      "-",
      "n",
      "t",
    ];
    for (let i = 0; i < 3000; i++) {
      const useBytes = r.chance(0.5);
      const input = useBytes
        ? Buffer.from(
            Array.from({ length: r.int(24) }, () =>
              r.chance(0.7) ? r.pick(alphabet).charCodeAt(0) : r.int(256),
            ),
          )
        : Array.from({ length: r.int(24) }, () => r.pick(alphabet)).join("");
      let expected: unknown;
      let parses = true;
      try {
        expected = JSON.parse(input.toString());
      } catch {
        parses = false;
      }
      try {
        const got = parseJsonText(input);
        expect(parses, `case ${i}: ${JSON.stringify(input.toString())}`).toBe(true);
        expect(got).toEqual(expected);
      } catch (err) {
        expect(err, `case ${i}`).toBeInstanceOf(JsonMappingError);
      }
    }
  });
});

import type { rng } from "./random.js";

/**
 * Random, valid proto3 JSON for test.v1.Kitchen, biased towards edge values: extremes of every integer
 * type (as numbers and as strings), non-finite and subnormal floats, unicode, both base64 alphabets,
 * enum names and numbers (known and unknown), JSON and proto field names, every well-known type.
 */
type R = ReturnType<typeof rng>;

const INT32 = [0, 1, -1, 2147483647, -2147483648, 42, -1000];
const UINT32 = [0, 1, 4294967295, 2147483648, 7];
const INT64 = [
  "0",
  "1",
  "-1",
  "9223372036854775807",
  "-9223372036854775808",
  "9007199254740993",
  "-9007199254740993",
  "123",
];
const UINT64 = ["0", "1", "18446744073709551615", "9223372036854775808", "9007199254740993"];
const FLOATS: unknown[] = [
  0,
  -0,
  1.5,
  -2.25,
  0.1,
  3.4028234663852886e38,
  -3.4028234663852886e38,
  1e-45,
  1.17549435e-38,
  "NaN",
  "Infinity",
  "-Infinity",
  "3.5",
];
const DOUBLES: unknown[] = [
  0,
  0.1,
  -1e308,
  1.7976931348623157e308,
  5e-324,
  2.5e-8,
  "NaN",
  "-Infinity",
  "1e10",
  123456.789,
];
const STRINGS = [
  "",
  "a",
  "héllo",
  "emoji 😀",
  'quote " backslash \\ newline \n',
  "\u0000nul",
  "日本語",
  "tab\t",
];
const TIMESTAMPS = [
  "1970-01-01T00:00:00Z",
  "0001-01-01T00:00:00Z",
  "9999-12-31T23:59:59.999999999Z",
  "2024-02-29T12:34:56.789Z",
  "1969-12-31T23:59:59.000001Z",
  "2000-01-01T00:00:00+05:30",
  "2020-06-15T08:00:00.5-07:00",
];
const DURATIONS = [
  "0s",
  "1s",
  "-1s",
  "1.5s",
  "-0.000000001s",
  "315576000000s",
  "-315576000000.999999999s",
  "0.010s",
];
const MASKS = ["", "a", "fooBar", "a.b.c", "fooBar,bazQux.x"];

function int(r: R, values: readonly number[], asString: boolean): unknown {
  const v = r.pick(values);
  return asString && r.chance(0.3) ? String(v) : v;
}

function int64(r: R, values: readonly string[]): unknown {
  const v = r.pick(values);
  // As a JSON number only when it is exactly representable.
  return r.chance(0.3) && Number.isSafeInteger(Number(v)) ? Number(v) : v;
}

function bytes(r: R): string {
  const raw = Buffer.from(Array.from({ length: r.int(12) }, () => r.int(256)));
  return r.chance(0.5) ? raw.toString("base64") : raw.toString("base64url");
}

function inner(r: R, depth = 0): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (r.chance(0.6)) o.name = r.pick(STRINGS);
  if (r.chance(0.5)) o.n = int(r, INT32, true);
  if (depth < 2 && r.chance(0.3)) o.child = inner(r, depth + 1);
  return o;
}

function jsonValue(r: R, depth = 0): unknown {
  const kind = r.int(depth > 2 ? 4 : 6);
  if (kind === 0) return null;
  if (kind === 1) return r.pick([0, 1.5, -3, 1e21, 123456789]);
  if (kind === 2) return r.pick(STRINGS);
  if (kind === 3) return r.chance(0.5);
  if (kind === 4) return Array.from({ length: r.int(3) }, () => jsonValue(r, depth + 1));
  return Object.fromEntries(Array.from({ length: r.int(3) }, (_, i) => [`k${i}`, jsonValue(r, depth + 1)]));
}

const COLORS: unknown[] = ["COLOR_UNSPECIFIED", "COLOR_RED", "COLOR_GREEN", 0, 1, 2, 7];

export function kitchenJson(r: R): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  // each field with some probability, by JSON name or proto name
  const set = (json: string, proto: string, v: () => unknown, p = 0.4) => {
    if (r.chance(p)) o[r.chance(0.8) ? json : proto] = v();
  };
  set("s", "s", () => r.pick(STRINGS));
  set("i32", "i32", () => int(r, INT32, true));
  set("i64", "i64", () => int64(r, INT64));
  set("u32", "u32", () => int(r, UINT32, true));
  set("u64", "u64", () => int64(r, UINT64));
  set("s32", "s32", () => int(r, INT32, true));
  set("s64", "s64", () => int64(r, INT64));
  set("f32", "f32", () => int(r, UINT32, true));
  set("f64", "f64", () => int64(r, UINT64));
  set("sf32", "sf32", () => int(r, INT32, true));
  set("sf64", "sf64", () => int64(r, INT64));
  set("fl", "fl", () => r.pick(FLOATS));
  set("db", "db", () => r.pick(DOUBLES));
  set("b", "b", () => r.chance(0.5));
  set("by", "by", () => bytes(r));
  set("color", "color", () => r.pick(COLORS));
  set("inner", "inner", () => inner(r));
  set("rs", "rs", () => Array.from({ length: r.int(4) }, () => r.pick(STRINGS)));
  set("ri64", "ri64", () => Array.from({ length: r.int(4) }, () => int64(r, INT64)));
  set("rcolor", "rcolor", () => Array.from({ length: r.int(4) }, () => r.pick(COLORS)));
  set("rinner", "rinner", () => Array.from({ length: r.int(3) }, () => inner(r)));
  set("mss", "mss", () =>
    Object.fromEntries(Array.from({ length: r.int(3) }, () => [r.pick(STRINGS), r.pick(STRINGS)])),
  );
  set("mi", "mi", () =>
    Object.fromEntries(Array.from({ length: r.int(3) }, () => [String(r.pick(INT32)), inner(r)])),
  );
  set("mb", "mb", () =>
    Object.fromEntries(Array.from({ length: r.int(3) }, () => [String(r.chance(0.5)), int64(r, INT64)])),
  );
  const oneof = r.int(4);
  if (oneof === 1) o.oa = r.pick(STRINGS);
  if (oneof === 2) o.ob = int(r, INT32, false);
  if (oneof === 3) o.oc = inner(r);
  set("opt", "opt", () => int(r, INT32, false), 0.3);
  set("ts", "ts", () => r.pick(TIMESTAMPS));
  set("dur", "dur", () => r.pick(DURATIONS));
  set("mask", "mask", () => r.pick(MASKS));
  set("st", "st", () =>
    Object.fromEntries(Array.from({ length: r.int(3) }, (_, i) => [`f${i}`, jsonValue(r)])),
  );
  set("val", "val", () => jsonValue(r), 0.3);
  set("lv", "lv", () => Array.from({ length: r.int(3) }, () => jsonValue(r)));
  set("w64", "w64", () => int64(r, INT64));
  set("wstr", "wstr", () => r.pick(STRINGS));
  set("wbool", "wbool", () => r.chance(0.5));
  set("any", "any", () =>
    r.pick([
      () => ({ "@type": "type.googleapis.com/test.v1.Inner", ...inner(r) }),
      () => ({ "@type": "type.googleapis.com/google.protobuf.Duration", value: r.pick(DURATIONS) }),
      () => ({ "@type": "type.googleapis.com/google.protobuf.Timestamp", value: r.pick(TIMESTAMPS) }),
      () => ({ "@type": "type.googleapis.com/google.protobuf.Struct", value: { a: jsonValue(r) } }),
      () => ({ "@type": "type.googleapis.com/google.protobuf.Int64Value", value: int64(r, INT64) }),
    ])(),
  );
  set("empty", "empty", () => ({}), 0.2);
  set("customName", "json_named", () => r.pick(STRINGS));
  set("packedI32", "packed_i32", () => Array.from({ length: r.int(5) }, () => int(r, INT32, true)));
  set("nul", "nul", () => r.pick([null, "NULL_VALUE", 0]), 0.2);
  return o;
}

import { parse } from "node:querystring";
import { describe, expect, it } from "vitest";
import { JsonMappingError } from "../../src/codec/index.js";
import { PercentDecodeError } from "../../src/routing/decode.js";
import { loadConfig } from "../../src/server/load-table.js";
import { parseQueryString } from "../../src/transcode/query-string.js";
import { buildRequest } from "../../src/transcode/request.js";
import { TEST_PROTOS } from "../helpers/echo-server.js";
import { rng } from "../helpers/random.js";

/** Issue #20 point 1 (the query is decoded strictly) and point 3 (one oneof member from the query). */

describe("parseQueryString()", () => {
  const valid: Array<[string, Record<string, string[]>]> = [
    ["", {}],
    ["a=1", { a: ["1"] }],
    ["a=1&b=2&a=3", { a: ["1", "3"], b: ["2"] }],
    ["a", { a: [""] }],
    ["a=", { a: [""] }],
    ["a==b", { a: ["=b"] }],
    ["&&a=1&", { a: ["1"] }],
    ["=x&a=1", { a: ["1"] }],
    ["a+b=c+d", { "a b": ["c d"] }],
    ["a=%2B%20%26%3D", { a: ["+ &="] }],
    ["s=%C3%A9%E2%82%AC%F0%9F%98%80", { s: ["é€😀"] }],
    ["%73=1", { s: ["1"] }],
    ["mss%5Bk%5D=v", { "mss[k]": ["v"] }],
  ];
  it.each(valid)("should read ?%s", (raw, expected) => {
    expect(Object.fromEntries(parseQueryString(raw))).toEqual(expected);
  });

  const invalid: Array<[string, string]> = [
    ["a lone %", "s=%"],
    ["a % with one digit", "s=%2"],
    ["a % with no hex digits", "s=%zz"],
    ["a malformed name", "%zz=1"],
    ["a malformed name without value", "a=1&%"],
    ["invalid UTF-8 (\\xff\\xfe)", "s=%FF%FE"],
    ["an overlong encoding (\\xc0\\xaf)", "s=%C0%AF"],
    ["a truncated sequence", "s=%E2%82"],
    ["a truncated sequence before another", "s=%E2%28%A1"],
    ["a lone continuation byte", "s=%80"],
    ["an encoded surrogate", "s=%ED%A0%80"],
    ["beyond U+10FFFF", "s=%F4%90%80%80"],
    ["invalid UTF-8 in a name", "%FF=1"],
  ];
  it.each(invalid)("should reject %s", (_name, raw) => {
    expect(() => parseQueryString(raw)).toThrow(PercentDecodeError);
  });

  it("should agree with node:querystring on well-formed queries (property, seeded)", () => {
    const r = rng(2026113002);
    const parts = ["a", "b", "=", "&", "+", "%20", "%3D", "%26", "%C3%A9", "x", "", "%2B"];
    for (let i = 0; i < 2000; i++) {
      const raw = Array.from({ length: r.int(10) }, () => r.pick(parts)).join("");
      const ours = Object.fromEntries(parseQueryString(raw));
      const theirs = Object.fromEntries(
        Object.entries(parse(raw))
          .filter(([k]) => k !== "")
          .map(([k, v]) => [k, Array.isArray(v) ? v : [v!]]),
      );
      expect(ours, raw).toEqual(theirs);
    }
  });
});

describe("query parameters and oneofs", () => {
  const config = loadConfig({ protos: [TEST_PROTOS] });
  const route = (template: string) => config.table.routes.find((r) => r.template.source === template)!;
  const build = (template: string, query: string) =>
    buildRequest(route(template), {
      segments: ["v1", "echo", "x"],
      query,
      body: undefined,
      contentType: undefined,
    });

  const invalid: Array<[string, string]> = [
    ["two scalar members", "oa=a&ob=1"],
    ["the same two, the other way round", "ob=1&oa=a"],
    ["a scalar member and a message member's field", "oc.name=x&oa=y"],
    ["a message member's field, then a scalar member", "oa=y&oc.n=2"],
    ["by JSON and proto name", "oa=a&ob=1&oc.name=z"],
  ];
  it.each(invalid)("should reject %s", (_name, query) => {
    expect(() => build("/v1/echo/{s}", query)).toThrow(JsonMappingError);
    expect(() => build("/v1/echo/{s}", query)).toThrow(/oneof "choice" already has/);
  });

  const valid: Array<[string, string, Record<string, unknown>]> = [
    ["one member", "ob=7", { ob: 7 }],
    ["two fields of one message member", "oc.name=x&oc.n=2", { oc: { name: "x", n: 2 } }],
    ["nested fields under one member", "oc.child.name=x&oc.n=2", { oc: { child: { name: "x" }, n: 2 } }],
  ];
  it.each(valid)("should accept %s", (_name, query, expected) => {
    expect(build("/v1/echo/{s}", query)).toMatchObject(expected);
  });
});

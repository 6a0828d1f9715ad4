import { describe, expect, it } from "vitest";
import { parseTemplate, type Segment, TemplateError } from "../../src/routing/template.js";

const lit = (value: string): Segment => ({ kind: "literal", value });
const star: Segment = { kind: "wildcard" };
const deep: Segment = { kind: "deep" };

describe("parseTemplate()", () => {
  const valid: Array<[string, Segment[], Array<[string, number, number]>, string]> = [
    ["/", [], [], ""],
    ["/v1/shelves", [lit("v1"), lit("shelves")], [], ""],
    ["/v1/shelves/{shelf}", [lit("v1"), lit("shelves"), star], [["shelf", 2, 3]], ""],
    ["/v1/{name=shelves/*}", [lit("v1"), lit("shelves"), star], [["name", 1, 3]], ""],
    [
      "/v1/{book.name=shelves/*/books/*}",
      [lit("v1"), lit("shelves"), star, lit("books"), star],
      [["book.name", 1, 5]],
      "",
    ],
    ["/v1/{name=**}", [lit("v1"), deep], [["name", 1, 2]], ""],
    ["/v1/files/**", [lit("v1"), lit("files"), deep], [], ""],
    ["/v1/*/x", [lit("v1"), star, lit("x")], [], ""],
    [
      "/v1/{a}/{b}",
      [lit("v1"), star, star],
      [
        ["a", 1, 2],
        ["b", 2, 3],
      ],
      "",
    ],
    ["/v1/{name=shelves/*}:publish", [lit("v1"), lit("shelves"), star], [["name", 1, 3]], "publish"],
    ["/v1/books:batchGet", [lit("v1"), lit("books")], [], "batchGet"],
    ["/v1/{x=**}:undo", [lit("v1"), deep], [["x", 1, 2]], "undo"],
    ["/pkg.Service/Method", [lit("pkg.Service"), lit("Method")], [], ""],
    ["/v1/a-b_c~d.e", [lit("v1"), lit("a-b_c~d.e")], [], ""],
  ];
  it.each(valid)("should parse %s", (src, segments, vars, verb) => {
    const t = parseTemplate(src);
    expect(t.segments).toEqual(segments);
    expect(t.variables.map((v) => [v.fieldPath.join("."), v.start, v.end])).toEqual(vars);
    expect(t.verb).toBe(verb);
  });

  const invalid: Array<[string, RegExp]> = [
    ["", /must start with/],
    ["a/{x}", /must start with/],
    ["/a/", /empty segment/],
    ["/a//b", /empty segment/],
    ["/a{x}", /whole segment/],
    ["/{x}a", /unexpected 'a'/],
    ["/a*", /unexpected '\*'/],
    ["/a/**/*", /'\*\*' must be the last/],
    ["/{x=**}/a", /'\*\*' must be the last/],
    ["/{var=a/{nested=b}}", /cannot be nested/],
    ["/a/{x=var:verb}", /verb cannot appear inside a variable/],
    ["/a/{x", /unterminated variable/],
    ["/a/{}", /invalid field path/],
    ["/a/{1x}", /invalid field path/],
    ["/a/{x.}", /invalid field path/],
    ["/a/{x=}", /cannot be empty/],
    ["/a/{x}/{x}", /bound twice/],
    ["/a:", /empty verb/],
    ["/:verb", /verb needs at least one segment/],
    ["/a:b:c", /unexpected ':'/],
    ["/a}", /unexpected '}'/],
  ];
  it.each(invalid)("should reject %j", (src, reason) => {
    expect(() => parseTemplate(src)).toThrow(TemplateError);
    expect(() => parseTemplate(src)).toThrow(reason);
  });
});

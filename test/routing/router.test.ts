import { describe, expect, it } from "vitest";
import { PercentDecodeError } from "../../src/routing/decode.js";
import { bindVariables, DuplicateRouteError, Router } from "../../src/routing/router.js";
import { parseTemplate } from "../../src/routing/template.js";

function routerOf(rules: Array<[string, string]>): Router<string> {
  const r = new Router<string>();
  for (const [method, template] of rules) r.add(method, parseTemplate(template), `${method} ${template}`);
  return r;
}

function vars(router: Router<string>, method: string, path: string): Record<string, string> | undefined {
  const m = router.find(method, path);
  if (!m) return undefined;
  return Object.fromEntries(
    bindVariables(m.template, m.segments).map((v) => [v.fieldPath.join("."), v.value]),
  );
}

describe("Router.find()", () => {
  // Declared in the least favourable order: ** first, literal last.
  const prio = routerOf([
    ["GET", "/v1/{rest=**}"],
    ["GET", "/v1/{id}"],
    ["GET", "/v1/special"],
    ["GET", "/v1/{id}/items/{item}"],
    ["GET", "/v1/special/items/{item}"],
    ["POST", "/v1/only-post"],
  ]);
  const cases: Array<[string, string, string | undefined]> = [
    ["GET", "/v1/special", "GET /v1/special"],
    ["GET", "/v1/other", "GET /v1/{id}"],
    ["GET", "/v1/a/b/c", "GET /v1/{rest=**}"],
    ["GET", "/v1/special/items/3", "GET /v1/special/items/{item}"],
    ["GET", "/v1/x/items/3", "GET /v1/{id}/items/{item}"],
    ["GET", "/v1/x/items", "GET /v1/{rest=**}"], // backtracks from {id}/items to **
    ["GET", "/v1/only-post", "GET /v1/{id}"], // the GET wildcard, not a 405 on the literal
    ["POST", "/v1/only-post", "POST /v1/only-post"],
    ["GET", "/v1", "GET /v1/{rest=**}"], // ** matches zero segments
    ["GET", "/v2/x", undefined],
    ["DELETE", "/v1/special", undefined],
  ];
  it.each(cases)("%s %s -> %s, whatever the declaration order", (method, path, expected) => {
    expect(prio.find(method, path)?.route).toBe(expected);
  });

  it("should give the methods of a path for 405", () => {
    const r = routerOf([
      ["GET", "/v1/books/{id}"],
      ["DELETE", "/v1/books/{id}"],
      ["POST", "/v1/books"],
    ]);
    expect(r.find("PUT", "/v1/books/1")).toBeUndefined();
    expect(r.allowedMethods("/v1/books/1")).toEqual(["DELETE", "GET"]);
    expect(r.allowedMethods("/v1/nothing")).toEqual([]);
  });

  it("should reject two routes with the same method and shape, naming both", () => {
    const r = routerOf([["GET", "/v1/{a}/x"]]);
    expect(() => r.add("GET", parseTemplate("/v1/{b}/x"), "second")).toThrow(DuplicateRouteError);
    expect(() => r.add("GET", parseTemplate("/v1/{b}/x"), "second")).toThrow(
      /GET \/v1\/\{b\}\/x is bound by both GET \/v1\/\{a\}\/x and second/,
    );
    expect(() => r.add("POST", parseTemplate("/v1/{b}/x"), "third")).not.toThrow();
  });
});

describe("custom verbs", () => {
  const r = routerOf([
    ["POST", "/v1/{name=books/*}:publish"],
    ["GET", "/v1/books/{id}"],
    ["GET", "/person/{id}"],
    ["POST", "/v1/{x=**}:undo"],
  ]);
  const cases: Array<[string, string, string | undefined, Record<string, string> | undefined]> = [
    ["POST", "/v1/books/7:publish", "POST /v1/{name=books/*}:publish", { name: "books/7" }],
    ["GET", "/v1/books/7:publish", "GET /v1/books/{id}", { id: "7:publish" }], // verb of another method: part of the segment
    ["GET", "/person/jason:other", "GET /person/{id}", { id: "jason:other" }], // undeclared verb
    ["POST", "/v1/a/b/c:undo", "POST /v1/{x=**}:undo", { x: "a/b/c" }],
    ["POST", "/v1/books/7", undefined, undefined],
  ];
  it.each(cases)("%s %s", (method, path, route, bound) => {
    expect(r.find(method, path)?.route).toBe(route);
    expect(vars(r, method, path)).toEqual(bound);
  });
});

describe("bindVariables()", () => {
  const r = routerOf([
    ["GET", "/v1/one/{id}"],
    ["GET", "/v1/multi/{name=shelves/*/books/*}"],
    ["GET", "/v1/deep/{path=**}"],
    ["GET", "/v1/nested/{book.author.name}"],
  ]);
  const cases: Array<[string, Record<string, string>]> = [
    ["/v1/one/abc", { id: "abc" }],
    ["/v1/one/a%2Fb", { id: "a/b" }], // one segment: fully decoded
    ["/v1/one/a+b", { id: "a+b" }], // + is a literal plus in a path
    ["/v1/one/caf%C3%A9", { id: "café" }],
    ["/v1/one/%20x%3A", { id: " x:" }],
    ["/v1/multi/shelves/1/books/2", { name: "shelves/1/books/2" }],
    ["/v1/multi/shelves/a%2Fb/books/%20", { name: "shelves/a%2Fb/books/ " }], // reserved stays encoded
    ["/v1/deep/a/b%2Fc/d%3F", { path: "a/b%2Fc/d%3F" }],
    ["/v1/deep/x%41y", { path: "xAy" }], // unreserved decoded
    ["/v1/nested/ann", { "book.author.name": "ann" }],
  ];
  it.each(cases)("%s", (path, expected) => {
    expect(vars(r, "GET", path)).toEqual(expected);
  });

  it.each(["/v1/one/%zz", "/v1/one/%E2%28%A1", "/v1/deep/a/%4"])(
    "should reject malformed encoding %s",
    (path) => {
      expect(() => vars(r, "GET", path)).toThrow(PercentDecodeError);
    },
  );

  it("should match a literal given percent-encoded", () => {
    expect(r.find("GET", "/v1/%6Fne/x")?.route).toBe("GET /v1/one/{id}");
  });
});

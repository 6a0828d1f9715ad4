import { describe, expect, it } from "vitest";
import { chooseNames, openApiPath, shapeOf, singular } from "../../src/openapi/paths.js";
import { claimsNote, securityOf } from "../../src/openapi/security.js";
import type { Requirement } from "../../src/policies/auth/config.js";
import { parseTemplate } from "../../src/routing/template.js";

/** The rules of the document, one table each: path shapes and names, security requirements. */
describe("shapeOf() and openApiPath()", () => {
  it.each([
    ["/v1/books/{book_id}", "/v1/books/{}", "/v1/books/{book_id}"],
    ["/v1/books/{book.id}", "/v1/books/{}", "/v1/books/{book.id}"],
    ["/v1/{name=projects/*/items/*}", "/v1/projects/{}/items/{}", "/v1/projects/{project}/items/{item}"],
    ["/v1/{name=shelves/*}:publish", "/v1/shelves/{}:publish", "/v1/shelves/{shelf}:publish"],
    ["/v1/{s=shelves/*/books/**}", "/v1/shelves/{}/books/{}", "/v1/shelves/{shelf}/books/{book}"],
    ["/v1/{path=**}", "/v1/{}", "/v1/{path}"],
    ["/v1/{name=*/x/*}", "/v1/{}/x/{}", "/v1/{name}/x/{x}"],
    ["/v1/{name=1/*/2/*}", "/v1/1/{}/2/{}", "/v1/1/{name}/2/{name_2}"],
    ["/v1/*/things", "/v1/{}/things", "/v1/{segment1}/things"],
    ["/v1/{a}/{b}", "/v1/{}/{}", "/v1/{a}/{b}"],
  ])("%s has shape %s and path %s", (template, key, path) => {
    const t = parseTemplate(template);
    const shape = shapeOf(t);
    expect(shape.key).toBe(key);
    expect(openApiPath(t, chooseNames([shape]))).toBe(path);
  });
});

describe("chooseNames()", () => {
  const names = (...templates: string[]) => chooseNames(templates.map((t) => shapeOf(parseTemplate(t))));
  it.each([
    [["/v1/books/{book_id}", "/v1/books/{book.id}"], ["book.id"]], // a tie: alphabetical
    [["/v1/books/{book.id}", "/v1/books/{book_id}"], ["book.id"]], // whatever the order
    [["/v1/books/{b}", "/v1/books/{a}", "/v1/books/{b}"], ["b"]], // the most used
    [["/v1/{name=a/*}/{a}"], ["a", "a_2"]], // never twice in one path
    [["/v1/x/{name=projects/*}", "/v1/x/{project}"], ["project"]],
  ])("%j -> %j", (templates, expected) => {
    expect(names(...templates)).toEqual(expected);
  });
});

describe("singular()", () => {
  it.each([
    ["books", "book"],
    ["policies", "policy"],
    ["shelves", "shelf"],
    ["addresses", "address"],
    ["boxes", "box"],
    ["status", "statu"], // not a plural it can tell: still a usable, unique name
    ["glass", "glass"],
    ["v1", "v1"],
  ])("%s -> %s", (plural, one) => {
    expect(singular(plural)).toBe(one);
  });
});

describe("securityOf()", () => {
  it.each<[Requirement, unknown]>([
    [{ require: "public" }, undefined],
    [{ require: "authenticated" }, [{ bearerAuth: [] }]],
    [{ require: "authenticated", scopes: { allOf: ["a", "b"] } }, [{ bearerAuth: ["a", "b"] }]],
    [
      { require: "authenticated", scopes: { anyOf: ["a", "b"] } },
      [{ bearerAuth: ["a"] }, { bearerAuth: ["b"] }],
    ],
    [
      { require: "authenticated", scopes: { anyOf: ["a", "b"], allOf: ["c"] } },
      [{ bearerAuth: ["a", "c"] }, { bearerAuth: ["b", "c"] }],
    ],
    [{ require: "authenticated", scopes: { anyOf: ["c"], allOf: ["c"] } }, [{ bearerAuth: ["c"] }]],
    [{ require: "authenticated", scopes: { anyOf: [] } }, [{ bearerAuth: [] }]], // authorize skips an empty anyOf
  ])("%j -> %j", (requirement, security) => {
    expect(securityOf(requirement)).toEqual(security);
  });

  it("should leave claim values to the description", () => {
    expect(claimsNote({ require: "authenticated", claims: { tenant: ["acme", "beta"] } })).toBe(
      'The token\'s claims must have `tenant` one of "acme", "beta" (403 otherwise).',
    );
    expect(claimsNote({ require: "authenticated" })).toBeUndefined();
  });
});

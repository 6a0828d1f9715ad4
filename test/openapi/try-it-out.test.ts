import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EchoServer, startEchoServer } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { documentIssuer } from "./issuer.js";
import { fieldValue, type Paths, swaggerRequest, templateProblems } from "./swagger.js";

/**
 * The document tells the truth: every operation of the test protos, called the way Swagger UI's
 * "Try it out" calls it, reaches the gRPC method it documents with the field values its parameter
 * descriptions promise. Once on the protos as they are, once with mapping rules that put several
 * bindings on one path shape, multi-segment variables, and JWT requirements per route.
 */
type Doc = { paths: Paths; components: Record<string, Record<string, unknown>> };

const MAPPINGS = [
  "http:",
  "  rules:",
  "    - selector: test.v1.EchoService.EchoGet",
  '      get: "/v1/books/{s}"',
  '      additional_bindings: [{ put: "/v1/projects/{inner.name}/items/{i32}" }]',
  "    - selector: test.v1.EchoService.EchoAll",
  '      delete: "/v1/books/{inner.name}"',
  "    - selector: test.v1.EchoService.EchoPath",
  '      get: "/v1/{s=projects/*/items/*}"',
  '      additional_bindings: [{ get: "/v1/{s=files/**}" }, { post: "/v1/{s=projects/*}/{inner.name}:go" }]',
  "methods:",
  "  test.v1.EchoService.EchoGet: { auth: { scopes: { allOf: [books:read] } } }",
  "  test.v1.EchoService.EchoAll: { auth: public }",
].join("\n");

let echo: EchoServer;
let plain: RunningGateway;
let mapped: RunningGateway;
let sign: (scopes: string[]) => Promise<string>;

beforeAll(async () => {
  echo = await startEchoServer();
  plain = await startGateway({ backend: echo.address });
  const dir = mkdtempSync(join(tmpdir(), "protogate-openapi-"));
  writeFileSync(join(dir, "rules.yaml"), MAPPINGS);
  const issuer = await documentIssuer();
  sign = issuer.sign;
  mapped = await startGateway({ backend: echo.address, mappings: dir, auth: issuer.auth });
});
afterAll(async () => {
  await plain?.close();
  await mapped?.close();
  await echo?.close();
});

const documentOf = async (gw: RunningGateway) =>
  (await (await fetch(`${gw.url}/openapi.json`)).json()) as Doc;

describe("Try it out", () => {
  it.each([
    ["the test protos", () => plain],
    ["the test protos with mapping rules and auth", () => mapped],
  ])("should take every operation of %s to its method", async (_name, gw) => {
    const doc = await documentOf(gw());
    const problems: string[] = [];
    let operations = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        operations++;
        const req = await swaggerRequest(gw().url, path, method, op, sign);
        const before = echo.calls.length;
        const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
        await res.arrayBuffer();
        const want = op.operationId.split("_")[1];
        const call = echo.calls[before]; // the first call since (Sleep also records its end)
        if (!call || call.method !== want) {
          problems.push(`${req.method} ${req.url} (${op.operationId}): ${res.status}, ran ${call?.method}`);
          continue;
        }
        for (const [field, value] of Object.entries(req.expected)) {
          const got = fieldValue(call.request, field);
          if (got !== value) problems.push(`${op.operationId} ${req.url}: ${field} = ${got}, want ${value}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(operations).toBeGreaterThan(15);
  });
});

describe("the document of a gateway with mapping rules and auth", () => {
  let doc: Doc;
  beforeAll(async () => {
    doc = await documentOf(mapped);
  });

  it.each([
    ["the test protos", () => plain],
    ["the test protos with mapping rules and auth", () => mapped],
  ])("should be a valid OpenAPI 3.1 document (%s)", async (_name, gw) => {
    const doc = await documentOf(gw());
    const result = await new Validator().validate(doc as unknown as Parameters<Validator["validate"]>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(templateProblems(doc.paths)).toEqual([]);
  });

  it("should put templates that differ in variable names into one path item", () => {
    const paths = Object.keys(doc.paths);
    expect(paths.filter((p) => p.startsWith("/v1/books/"))).toEqual(["/v1/books/{inner.name}"]);
    const books = doc.paths["/v1/books/{inner.name}"]!;
    expect(Object.keys(books).sort()).toEqual(["delete", "get"]);
    // each operation says which field it sets
    expect(books.get!.parameters[0]).toMatchObject({ name: "inner.name", description: "Sets `s`." });
    expect(books.delete!.parameters[0]!.name).toBe("inner.name");
    expect(books.delete!.parameters[0]!.description ?? "").not.toContain("Sets");
    const items = doc.paths["/v1/projects/{inner.name}/items/{i32}"]!;
    expect(Object.keys(items).sort()).toEqual(["get", "put"]);
    expect(items.get!.parameters.filter((p) => p.in === "path").map((p) => p.description)).toEqual([
      'Sets `s` = `projects/{inner.name}/items/{i32}` (segments joined by "/").',
      'Sets `s` = `projects/{inner.name}/items/{i32}` (segments joined by "/").',
    ]);
    expect(paths).toEqual(
      expect.arrayContaining(["/v1/files/{file}", "/v1/projects/{project}/{inner.name}:go"]),
    );
  });

  it("should give each operation the bearer requirement its route has", () => {
    expect(doc.components.securitySchemes).toEqual({
      bearerAuth: expect.objectContaining({ type: "http", scheme: "bearer", bearerFormat: "JWT" }),
    });
    const security = (path: string, method: string) => doc.paths[path]![method]!.security;
    expect(security("/v1/books/{inner.name}", "get")).toEqual([{ bearerAuth: ["books:read"] }]);
    expect(security("/v1/books/{inner.name}", "delete")).toBeUndefined(); // public
    expect(security("/v1/prio/{s}", "get")).toBeUndefined(); // public by its proto option
    expect(security("/v1/things/{s}:frob", "post")).toEqual([{ bearerAuth: [] }]); // auth.default
    // any_scopes: "books:write" or "admin"; claims cannot be said in OpenAPI, so the description does
    const body = doc.paths["/v1/body/{s}"]!.post!;
    expect(body.security).toEqual([{ bearerAuth: ["books:write"] }, { bearerAuth: ["admin"] }]);
    expect(body.description).toContain('`tenant` one of "acme"');
  });
});

describe("the document of a gateway without auth", () => {
  it("should have no security", async () => {
    const doc = await documentOf(plain);
    expect(doc.components.securitySchemes).toBeUndefined();
    const secured = Object.values(doc.paths).flatMap((item) =>
      Object.values(item).filter((op) => op.security !== undefined),
    );
    expect(secured).toEqual([]);
  });
});

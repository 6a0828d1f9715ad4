import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { REPO } from "../helpers/process.js";
import { type Paths, templateProblems } from "./swagger.js";

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};
type Operation = {
  operationId: string;
  summary: string;
  description?: string;
  parameters: Array<{ name: string; in: string; schema: Record<string, unknown>; description?: string }>;
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content: Record<string, { schema: unknown }> }>;
};

let test: RunningGateway;
let bookstore: RunningGateway;
let doc: Doc;

beforeAll(async () => {
  test = await startGateway({ backend: "127.0.0.1:1" });
  bookstore = await startGateway({ protos: [`${REPO}/protos`], backend: "127.0.0.1:1" });
  doc = (await (await fetch(`${test.url}/openapi.json`)).json()) as Doc;
});
afterAll(async () => {
  await test?.close();
  await bookstore?.close();
});

describe("GET /openapi.json", () => {
  it.each([
    ["test protos", () => test],
    ["bookstore example", () => bookstore],
  ])("should be a valid OpenAPI 3.1 document (%s)", async (_name, gw) => {
    const body = await (await fetch(`${gw().url}/openapi.json`)).json();
    const result = await new Validator().validate(body as Parameters<Validator["validate"]>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(templateProblems((body as Doc).paths as unknown as Paths)).toEqual([]);
  });

  it("should merge the bookstore's book paths that differ in parameter names", async () => {
    const b = (await (await fetch(`${bookstore.url}/openapi.json`)).json()) as Doc;
    const books = Object.keys(b.paths).filter((p) => p.startsWith("/v1/shelves/{shelf_id}/books/{"));
    expect(books).toEqual([
      "/v1/shelves/{shelf_id}/books/{book_id}",
      "/v1/shelves/{shelf_id}/books/{book_id}:checkout",
    ]);
    const item = b.paths["/v1/shelves/{shelf_id}/books/{book_id}"]!;
    expect(Object.keys(item).sort()).toEqual(["delete", "get", "patch"]);
    // UpdateBook binds {book.id}: its parameter says so
    expect(item.patch!.parameters.find((p) => p.name === "book_id")!.description).toBe("Sets `book.id`.");
  });

  it("should describe path, query and body parameters as the router binds them", () => {
    const get = doc.paths["/v1/echo/{s}"]!.get!;
    expect(get.parameters.filter((p) => p.in === "path").map((p) => p.name)).toEqual(["s"]);
    const query = get.parameters.filter((p) => p.in === "query").map((p) => p.name);
    expect(query).toEqual(
      expect.arrayContaining(["i32", "i64", "inner.name", "inner.child.n", "customName", "ts", "rs"]),
    );
    expect(query).not.toContain("s"); // bound by the path
    const mss = get.parameters.find((p) => p.name === "mss") as Record<string, unknown>;
    expect(mss).toMatchObject({
      in: "query",
      style: "deepObject",
      schema: { type: "object", additionalProperties: { type: "string" } },
    });
    expect(query).not.toContain("mi"); // a map of messages cannot come from the query

    const all = doc.paths["/v1/echo"]!.post!;
    expect(all.parameters).toEqual([]); // body "*": everything in the body
    expect(all.requestBody!.content["application/json"]!.schema).toEqual({
      $ref: "#/components/schemas/test.v1.Kitchen",
    });

    const field = doc.paths["/v1/echo/{s}/inner"]!.post!;
    expect(field.requestBody!.content["application/json"]!.schema).toEqual({
      $ref: "#/components/schemas/test.v1.Inner",
    });
    expect(field.parameters.map((p) => p.name)).not.toContain("inner.name"); // bound by the body
  });

  it("should render templates, verbs and multi-segment variables", () => {
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/shelves/{shelf}/books/{book}",
        "/v1/things/{s}:frob",
        "/test.v1.EchoService/Unbound",
        "/v1/echo/{inner.name}/n/{inner.n}",
      ]),
    );
    // one parameter per `*`/`**`: clients encode "/" in a parameter, and the router splits on raw "/"
    const multi = doc.paths["/v1/shelves/{shelf}/books/{book}"]!.get!.parameters.filter(
      (p) => p.in === "path",
    );
    expect(multi.map((p) => [p.name, p.description])).toEqual([
      ["shelf", 'Sets `s` = `shelves/{shelf}/books/{book}` (segments joined by "/").'],
      [
        "book",
        'Sets `s` = `shelves/{shelf}/books/{book}` (segments joined by "/"). One or more segments: send `/` unencoded (a `%2F` stays encoded in the field, google/api/http.proto).',
      ],
    ]);
    const nested = doc.paths["/v1/echo/{inner.name}/n/{inner.n}"]!.get!.parameters.filter(
      (p) => p.in === "path",
    );
    expect(nested.map((p) => [p.name, p.schema])).toEqual([
      ["inner.name", { type: "string" }],
      ["inner.n", { type: "integer", format: "int32" }],
    ]);
  });

  it("should give response_body routes the field's schema", () => {
    const rs = doc.paths["/v1/rs/{s}"]!.get!.responses["200"]!.content["application/json"]!.schema;
    expect(rs).toEqual({ type: "array", items: { type: "string" } });
  });

  it("should type fields as proto3 JSON has them", () => {
    const k = doc.components.schemas["test.v1.Kitchen"]!.properties as Record<
      string,
      Record<string, unknown>
    >;
    expect(k.i64).toMatchObject({ type: "string", format: "int64" });
    expect(k.u64).toMatchObject({ type: "string", format: "uint64" });
    expect(k.ts).toEqual({ $ref: "#/components/schemas/google.protobuf.Timestamp" });
    expect(doc.components.schemas["google.protobuf.Timestamp"]).toMatchObject({
      type: "string",
      format: "date-time",
    });
    expect(k.color).toEqual({ type: "string", enum: ["COLOR_UNSPECIFIED", "COLOR_RED", "COLOR_GREEN"] });
    expect(k.mi).toEqual({
      type: "object",
      additionalProperties: { $ref: "#/components/schemas/test.v1.Inner" },
    });
    expect(k.by).toMatchObject({ type: "string", contentEncoding: "base64" });
    expect(k.customName).toEqual({ type: "string" }); // json_name
    expect(doc.components.schemas["test.v1.Inner"]!.properties).toHaveProperty("child", {
      $ref: "#/components/schemas/test.v1.Inner",
    });
  });

  it("should describe every error as google.rpc.Status", () => {
    const op = doc.paths["/v1/echo/{s}"]!.get!;
    expect(op.responses.default!.content["application/json"]!.schema).toEqual({
      $ref: "#/components/schemas/google.rpc.Status",
    });
    expect(doc.components.schemas["google.rpc.Status"]!.properties).toHaveProperty("details");
  });

  it("should take descriptions from the proto comments", async () => {
    const b = (await (await fetch(`${bookstore.url}/openapi.json`)).json()) as Doc;
    expect(b.paths["/v1/shelves/{shelf_id}"]!.get!.summary).toBe(
      "Gets a shelf. NOT_FOUND if it does not exist.",
    );
    const book = b.components.schemas["bookstore.v1.Book"]!;
    expect((book.properties as Record<string, { description?: string }>).name!.description).toBe(
      '"shelves/{shelf_id}/books/{book_id}"',
    );
    expect(book.description).toBe("A book.");
  });
});

describe("GET /docs/", () => {
  it("should serve Swagger UI from the package, pointed at /openapi.json", async () => {
    const page = await fetch(`${test.url}/docs/`);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('url: "../openapi.json"');
    const bundle = await fetch(`${test.url}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    expect((await fetch(`${test.url}/docs/../package.json`)).status).toBe(404);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EchoServer, startEchoServer } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

let backend: EchoServer;
let gw: RunningGateway;

beforeAll(async () => {
  backend = await startEchoServer();
  gw = await startGateway({
    backend: backend.address,
    methodSettings: { "test.v1.EchoService.EchoResponseBody": { unknownQueryParameters: "reject" } },
  });
});
afterAll(async () => {
  await gw?.close();
  await backend?.close();
});

describe("path variables", () => {
  const cases: Array<[string, string, Record<string, unknown>]> = [
    ["single segment", "/v1/echo/hello", { s: "hello" }],
    ["single segment, %2F decoded", "/v1/echo/a%2Fb", { s: "a/b" }],
    ["single segment, + is literal", "/v1/echo/a+b", { s: "a+b" }],
    ["nested field paths, typed", "/v1/echo/ann/n/-5", { inner: { name: "ann", n: -5 } }],
    ["multi segment keeps reserved encoded", "/v1/shelves/1/books/a/b%2Fc", { s: "shelves/1/books/a/b%2Fc" }],
  ];
  it.each(cases)("%s: GET %s", async (_name, path, expected) => {
    const res = await gw.call("GET", path);
    expect(res.status).toBe(200);
    expect(backend.last().request).toMatchObject(expected);
    expect(res.body).toMatchObject(expected);
  });

  it("should answer 400 naming the field when a path value does not parse", async () => {
    const res = await gw.call("GET", "/v1/echo/ann/n/abc");
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      code: 3,
      message: 'invalid value for field "inner.n": "abc" is not a number',
      details: [],
    });
  });

  it("should answer 400 for malformed percent-encoding", async () => {
    const res = await gw.call("GET", "/v1/echo/%E2%28");
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 3 });
  });
});

describe("request body", () => {
  it('should take the whole message from body "*" (checked by an independent decoder)', async () => {
    const body = {
      s: "x",
      i64: "-9007199254740993",
      u64: "18446744073709551615",
      color: "COLOR_GREEN",
      ts: "2024-05-01T12:00:00.250Z",
      dur: "-1.5s",
      by: "AQID",
      rs: ["a", "b"],
      mss: { k: "v" },
      mi: { "7": { name: "seven" } },
      oc: { name: "one" },
      customName: "cn",
      st: { a: [1, "b", null] },
      w64: "3",
    };
    const res = await gw.call("POST", "/v1/echo", {
      body: JSON.stringify(body),
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(200);
    expect(backend.last().request).toMatchObject({
      s: "x",
      i64: "-9007199254740993",
      u64: "18446744073709551615",
      color: "COLOR_GREEN",
      ts: { seconds: "1714564800", nanos: 250000000 },
      dur: { seconds: "-1", nanos: -500000000 },
      by: "AQID",
      rs: ["a", "b"],
      mss: { k: "v" },
      mi: { "7": { name: "seven" } },
      oc: { name: "one" },
      choice: "oc",
      json_named: "cn",
      w64: { value: "3" },
    });
    expect(res.body).toEqual({ ...body, dur: "-1.500s" });
  });

  it("should take a body field, the rest from path and query", async () => {
    const res = await gw.call("POST", "/v1/echo/x/inner?i32=4&inner.n=9", { body: '{"name":"q","n":3}' });
    expect(res.status).toBe(200);
    // inner is bound to the body, so inner.n from the query is not applied
    expect(backend.last().request).toMatchObject({ s: "x", i32: 4, inner: { name: "q", n: 3 } });
  });

  it("should take a repeated body field as a JSON array", async () => {
    const res = await gw.call("POST", "/v1/body/x", { body: '[{"name":"a"},{"n":2}]' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ s: "x", rinner: [{ name: "a" }, { n: 2 }] });
  });

  it("should let path variables win over the body", async () => {
    await gw.call("POST", "/v1/things/path:frob", { body: '{"s":"body","i32":1}' });
    expect(backend.last()).toMatchObject({ method: "EchoVerb", request: { s: "path", i32: 1 } });
  });

  it("should accept an empty body as an empty message", async () => {
    const res = await gw.call("POST", "/v1/echo", { body: "" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
  });

  it("should not give additional bindings the parent's body", async () => {
    const res = await gw.call("PUT", "/v1/echo/x/nobody", { body: '{"i32":5}' });
    expect(res.status).toBe(200);
    expect(backend.last().request).not.toHaveProperty("i32"); // not on the wire at all
  });

  const bad: Array<[string, string, string, RegExp]> = [
    ["malformed JSON", "/v1/echo", "{", /request body is not valid JSON/],
    ["wrong type", "/v1/echo", '{"i32":"x"}', /field "i32": "x" is not a number/],
    [
      "nested wrong type",
      "/v1/echo",
      '{"inner":{"child":{"n":true}}}',
      /field "inner.child.n": expected a number, got true/,
    ],
    ["unknown field", "/v1/echo", '{"nope":1}', /unknown field "nope"/],
    ["two oneof members", "/v1/echo", '{"oa":"a","ob":1}', /oneof "choice" already has "oa" set/],
    ["out of range", "/v1/echo", '{"i32":4294967296}', /field "i32": 4294967296 is out of range/],
    [
      "bad timestamp",
      "/v1/echo",
      '{"ts":"yesterday"}',
      /field "ts": "yesterday" is not an RFC 3339 timestamp/,
    ],
    [
      "body field with wrong JSON type",
      "/v1/body/x",
      '{"name":"a"}',
      /field "rinner": expected a JSON array/,
    ],
    [
      "nesting too deep",
      "/v1/echo",
      `{"st":${'{"a":'.repeat(3000)}1${"}".repeat(3000)}}`,
      /nested more than 100 levels deep/,
    ],
  ];
  it.each(bad)("should answer 400 for %s", async (_name, path, body, message) => {
    const res = await gw.call("POST", path, { body });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect((res.body as { code: number }).code).toBe(3);
    expect((res.body as { message: string }).message).toMatch(message);
  });
});

describe("query parameters", () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ["i32=5&u64=18446744073709551615", { i32: 5, u64: "18446744073709551615" }],
    ["rs=a&rs=b&ri64=1&ri64=-2", { rs: ["a", "b"], ri64: ["1", "-2"] }],
    [
      "color=COLOR_RED&rcolor=2&rcolor=COLOR_RED",
      { color: "COLOR_RED", rcolor: ["COLOR_GREEN", "COLOR_RED"] },
    ],
    ["inner.name=z&inner.child.n=3", { inner: { name: "z", child: { n: 3 } } }],
    ["json_named=a", { json_named: "a" }],
    ["customName=b", { json_named: "b" }],
    ["packedI32=1&packed_i32=2", { packed_i32: [1, 2] }],
    ["b=true&by=AQID_w", { b: true, by: "AQID/w==" }],
    ["fl=1.5&db=NaN", { fl: 1.5, db: Number.NaN }],
    [
      "ts=2024-01-01T00:00:00Z&dur=1.5s&mask=a,bC",
      {
        ts: { seconds: "1704067200" },
        dur: { seconds: "1", nanos: 500000000 },
        mask: { paths: ["a", "b_c"] },
      },
    ],
    ["w64=7&wstr=hi&wbool=false", { w64: { value: "7" }, wstr: { value: "hi" }, wbool: {} }],
    ["oa=x", { oa: "x", choice: "oa" }],
    ["mss[a]=1&mss[b]=two", { mss: { a: "1", b: "two" } }],
    ["mb[true]=5&mb[false]=-1", { mb: { true: "5", false: "-1" } }],
    ["s=fromquery", { s: "path" }], // path wins
    ["unknown=1&inner.unknown=2", {}], // ignored by default
    ["q=a+b%20c", {}],
  ];
  it.each(cases)("GET /v1/echo/path?%s", async (query, expected) => {
    const res = await gw.call("GET", `/v1/echo/path?${query}`);
    expect(res.status).toBe(200);
    expect(backend.last().request).toMatchObject({ s: "path", ...expected });
  });

  it("should decode + as a space in query values", async () => {
    await gw.call("GET", "/v1/echo/path?inner.name=a+b%2Bc");
    expect(backend.last().request).toMatchObject({ inner: { name: "a b+c" } });
  });

  const bad: Array<[string, RegExp]> = [
    ["i32=1&i32=2", /"i32".*given more than once/],
    ["i32=x", /"i32": "x" is not a number/],
    ["color=PURPLE", /"color": "PURPLE" is not a value of enum test.v1.Color/],
    ["b=yes", /"b": "yes" is not true or false/],
    ["ts=nope", /"ts": "nope" is not an RFC 3339 timestamp/],
    ["inner=x", /test.v1.Inner cannot be set from a path or query parameter/],
    ["mss=x", /map fields are set as mss\[key\]=value/],
    ["by=***", /not valid base64/],
    ["mss[a]=1&mss[a]=2", /"mss\[a\]": given more than once/],
    ["mb[yes]=1", /map key "yes" is not true or false/],
    ["mi[x]=1", /map key "x" is not an integer/],
    ["mi[7]=1", /test.v1.Inner cannot be set from a path or query parameter/],
    ["i32[a]=1", /map fields are set as i32\[key\]=value/],
  ];
  it.each(bad)("should answer 400 for ?%s", async (query, message) => {
    const res = await gw.call("GET", `/v1/echo/path?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 3, message: expect.stringMatching(message) });
  });

  it("should reject unknown query parameters when the route says so", async () => {
    const res = await gw.call("GET", "/v1/rs/x?nope=1");
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 3, message: 'unknown query parameter "nope"' });
  });

  it('should not apply query parameters to a body "*" route', async () => {
    await gw.call("POST", "/v1/echo?i32=5", { body: '{"s":"b"}' });
    expect(backend.last().request).toEqual({ s: "b" });
  });
});

describe("response_body", () => {
  const cases: Array<[string, unknown]> = [
    ["/v1/rs/x?rs=a&rs=b", ["a", "b"]],
    ["/v1/rs/x", []],
    ["/v1/rs/x/inner?inner.name=n", { name: "n" }],
    ["/v1/rs/x/inner", {}],
    ["/v1/rs/x/i64?i64=5", "5"],
    ["/v1/rs/x/i64", "0"],
  ];
  it.each(cases)("GET %s", async (path, expected) => {
    const res = await gw.call("GET", path);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(expected);
  });
});

describe("route matching", () => {
  const cases: Array<[string, string, string]> = [
    ["GET", "/v1/prio/special", "EchoPrioLiteral"],
    ["GET", "/v1/prio/other", "EchoPrioWildcard"],
    ["GET", "/v1/prio/a/b/c", "EchoPrioDeep"],
    ["POST", "/v1/things/a:frob", "EchoVerb"],
    ["POST", "/v1/things/a:other", "EchoNoVerb"],
    ["POST", "/test.v1.EchoService/Unbound", "Unbound"],
    ["HEAD", "/v1/custom/x", "Custom"],
  ];
  it.each(cases)("%s %s -> %s", async (method, path, rpc) => {
    const res = await gw.call(method, path);
    expect(res.status).toBe(200);
    expect(res.headers.get("grpc-metadata-x-method")).toBe(rpc);
  });

  it("should give a custom verb's method only the segment before the verb", async () => {
    await gw.call("POST", "/v1/things/a:other");
    expect(backend.last().request.s).toBe("a:other");
    await gw.call("POST", "/v1/things/a:frob");
    expect(backend.last().request.s).toBe("a");
  });

  it("should answer 404 as a google.rpc.Status for no route", async () => {
    const res = await gw.call("GET", "/v2/nothing");
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ code: 5, message: "no route for GET /v2/nothing", details: [] });
  });

  it("should answer 405 with Allow when the path exists under other methods", async () => {
    const res = await gw.call("DELETE", "/v1/echo/x");
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
    expect(res.body).toMatchObject({ code: 12 });
  });

  it("should expose streaming methods (issue #14) without a warning at load", async () => {
    expect(gw.gateway.config().table.routes.some((r) => r.method.name === "ServerStream")).toBe(true);
    expect(gw.gateway.config().table.warnings.join("\n")).not.toMatch(/streaming/);
  });
});

import { describe, expect, it } from "vitest";
import { anyOfAny, bytes, echoGateway, rawRequest } from "./inputs.js";

/**
 * Issue #20 points 1-4 end to end: each bad input is a 400 google.rpc.Status and never reaches the
 * backend; the good neighbours of each still pass.
 */

const env = echoGateway();

async function postBytes(path: string, body: Buffer): Promise<{ status: number; body: unknown }> {
  const res = await rawRequest(env.gw.url, "POST", path, body);
  return { status: res.status, body: JSON.parse(res.text) };
}

async function expectRejected(res: { status: number; body: unknown }, message: RegExp, callsBefore: number) {
  expect(res.status).toBe(400);
  expect(res.body).toMatchObject({ code: 3, message: expect.stringMatching(message), details: [] });
  expect(env.backend.calls.length, "the backend was called").toBe(callsBefore);
}

describe("point 1: strings are Unicode, or a 400", () => {
  const bodies: Array<[string, Buffer, RegExp]> = [
    ["\\xff\\xfe in a string", bytes('{"s":"', [0xff, 0xfe], '"}'), /request body is not valid UTF-8/],
    ["overlong \\xc0\\xaf", bytes('{"s":"a', [0xc0, 0xaf], '"}'), /request body is not valid UTF-8/],
    ["a truncated sequence", bytes('{"s":"', [0xe2, 0x82], '"}'), /request body is not valid UTF-8/],
    ["raw bytes in a Struct key", bytes('{"st":{"', [0xff], '":1}}'), /request body is not valid UTF-8/],
    ["a lone surrogate escape", bytes('{"s":"a\\udca0b"}'), /field "s": not valid Unicode/],
    ["a lone surrogate in a map key", bytes('{"mss":{"\\ud800":"v"}}'), /not valid Unicode/],
    ["a lone surrogate in a Struct key", bytes('{"st":{"\\ud800":1}}'), /not valid Unicode/],
    ["a lone surrogate in a Value", bytes('{"val":["\\udfff"]}'), /field "val\[0\]": not valid Unicode/],
  ];
  it.each(bodies)("POST body with %s", async (_name, body, message) => {
    const before = env.backend.calls.length;
    await expectRejected(await postBytes("/v1/echo", body), message, before);
  });

  it("POST a body field (body: rinner) with a lone surrogate", async () => {
    const before = env.backend.calls.length;
    await expectRejected(
      await env.gw.call("POST", "/v1/body/x", { body: '[{"name":"\\udca0"}]' }),
      /Unicode/,
      before,
    );
  });

  const queries: Array<[string, RegExp]> = [
    ["s=%FF%FE", /percent-encoding/],
    ["inner.name=%C0%AF", /percent-encoding/],
    ["rs=ok&rs=%ED%A0%80", /percent-encoding/],
    ["mss[k]=%E2%82", /percent-encoding/],
    ["s=%", /percent-encoding/],
    ["s=%zz", /percent-encoding/],
    ["%zz=1", /percent-encoding/],
    ["%FF=1", /percent-encoding/],
  ];
  it.each(queries)("GET ?%s", async (query, message) => {
    const before = env.backend.calls.length;
    await expectRejected(await env.gw.call("GET", `/v1/echo/x?${query}`), message, before);
  });

  it("GET a path variable with invalid UTF-8", async () => {
    const before = env.backend.calls.length;
    await expectRejected(
      await env.gw.call("GET", "/v1/echo/%FF%FE"),
      /not a valid url component|not valid UTF-8/,
      before,
    );
  });

  it("passes well-formed text everywhere", async () => {
    const res = await env.gw.call("GET", "/v1/echo/%C3%A9?inner.name=%F0%9F%98%80&mss[%E2%82%AC]=%E2%82%AC");
    expect(res.status).toBe(200);
    expect(env.backend.last().request).toMatchObject({ s: "é", inner: { name: "😀" }, mss: { "€": "€" } });
    const post = await postBytes("/v1/echo", Buffer.from('{"s":"\\ud83d\\ude00 é","st":{"ключ":"值"}}'));
    expect(post.status).toBe(200);
    expect(post.body).toMatchObject({ s: "😀 é", st: { ключ: "值" } });
  });
});

describe("point 2: numbers in range, each field once", () => {
  const bodies: Array<[string, string, RegExp]> = [
    ["a double of 1.89769e308", '{"db":1.89769e308}', /field "db": number out of range/],
    ["a double of 1e400", '{"db":1e400}', /field "db": number out of range/],
    ["a Value of 1e400", '{"val":1e400}', /field "val": number out of range/],
    ["a Struct number of -1e400", '{"st":{"a":-1e400}}', /number out of range/],
    ["one key twice", '{"s":"a","s":"b"}', /request body has the key "s" twice in one object/],
    ["a nested key twice", '{"inner":{"n":1,"n":2}}', /has the key "n" twice/],
    ["proto and JSON names", '{"json_named":"a","customName":"b"}', /given twice/],
  ];
  it.each(bodies)("POST %s", async (_name, body, message) => {
    const before = env.backend.calls.length;
    await expectRejected(await env.gw.call("POST", "/v1/echo", { body }), message, before);
  });
});

describe("point 3: one oneof member from the query", () => {
  it.each(["oa=a&ob=1", "oc.name=x&oa=y"])("GET ?%s", async (query) => {
    const before = env.backend.calls.length;
    await expectRejected(
      await env.gw.call("GET", `/v1/echo/x?${query}`),
      /oneof "choice" already has/,
      before,
    );
  });

  it("takes two fields of the same member", async () => {
    const res = await env.gw.call("GET", "/v1/echo/x?oc.name=a&oc.n=2");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ oc: { name: "a", n: 2 } });
  });
});

describe("point 4: one depth limit through Any", () => {
  it.each([101, 5000])("rejects Any wrapping Any %i levels deep", async (n) => {
    const before = env.backend.calls.length;
    await expectRejected(
      await env.gw.call("POST", "/v1/echo", { body: anyOfAny(n) }),
      /nested more than 100/,
      before,
    );
  });

  it("takes Any wrapping Any 50 levels deep", async () => {
    const res = await env.gw.call("POST", "/v1/echo", { body: anyOfAny(50) });
    expect(res.status).toBe(200);
    expect(res.text).toContain('"value":"1.500s"');
  });
});

describe("point 4: the depth the gateway accepts is the depth a backend decodes", () => {
  // Backends refuse messages nested past 100 (protobuf C++, Java, protobufjs): the JSON reader counts
  // the levels of the wire form (a Value and its ListValue or Struct are two), so what it accepts decodes.
  const shapes: Array<[string, (n: number) => string]> = [
    ["ListValue", (n) => `{"lv":${"[".repeat(n)}${"]".repeat(n)}}`],
    ["Value", (n) => `{"val":${"[".repeat(n)}${"]".repeat(n)}}`],
    ["Struct", (n) => `{"st":${'{"a":'.repeat(n)}1${"}".repeat(n)}}`],
    ["messages", (n) => `{"inner":${'{"child":'.repeat(n)}{}${"}".repeat(n)}}`],
  ];
  it.each(shapes)("%s: 200 up to the limit, then 400, never 500", async (_name, shape) => {
    const statuses: number[] = [];
    for (let n = 40; n <= 105; n++)
      statuses.push((await env.gw.call("POST", "/v1/echo", { body: shape(n) })).status);
    expect(statuses.filter((s) => s !== 200 && s !== 400)).toEqual([]);
    const firstRejected = statuses.indexOf(400);
    expect(firstRejected).toBeGreaterThan(0);
    expect(statuses.slice(firstRejected).every((s) => s === 400)).toBe(true);
  });
});

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bufImage } from "../../bench/lib/buf-image.mjs";
import type { MessageInfo } from "../../src/codec/index.js";
import { loadConfig } from "../../src/server/load-table.js";
import { type EchoServer, startEchoServer, TEST_PROTOS } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { REPO } from "../helpers/process.js";

/** A FileDescriptorSet built by `buf build` must load to exactly what the .proto files load to. */

const work = mkdtempSync(join(tmpdir(), "protogate-descset-"));
const image = (dir: string, name: string) => {
  const file = join(work, name);
  writeFileSync(file, bufImage(dir));
  return file;
};

/** The codec's view of a message, comparable across loaders. */
function shape(info: MessageInfo) {
  return info.fields.map((f) => ({
    name: f.name,
    jsonName: f.jsonName,
    number: f.number,
    kind: f.element.kind,
    type:
      f.element.kind === "scalar"
        ? f.element.scalar
        : f.element.kind === "enum"
          ? f.element.enum.fullName
          : f.element.message().fullName,
    repeated: f.repeated,
    packed: f.packed,
    mapKey: f.mapKey,
    oneof: f.oneof,
    explicitPresence: f.explicitPresence,
  }));
}

describe.each([
  [
    "test protos",
    TEST_PROTOS,
    ["test.v1.Kitchen", "test.v1.Inner", "test.v1.FailRequest", "test.v1.MetadataResponse"],
  ],
  [
    "bookstore",
    join(REPO, "protos"),
    ["bookstore.v1.Book", "bookstore.v1.UpdateBookRequest", "bookstore.v1.ListBooksResponse"],
  ],
])("descriptor set of the %s", (_name, dir, messages) => {
  const fromProtos = loadConfig({ protos: [dir] });
  const fromSet = loadConfig({
    protos: [],
    descriptorSets: [image(dir, `${_name.replace(/ /g, "-")}.binpb`)],
  });

  it.each(messages)("should give %s the same fields", (name) => {
    expect(shape(fromSet.registry.findMessage(name)!)).toEqual(shape(fromProtos.registry.findMessage(name)!));
  });

  it("should give the same routes", () => {
    const routes = (c: typeof fromSet) =>
      c.table.routes.map((r) => [
        r.httpMethod,
        r.template.source,
        r.method.fullName,
        r.body.kind,
        r.responseBody?.name,
        r.settings.auth,
      ]);
    expect(routes(fromSet)).toEqual(routes(fromProtos));
    expect(fromSet.table.routes.length).toBeGreaterThan(10);
  });
});

describe("a gateway serving from a descriptor set", () => {
  let backend: EchoServer;
  let gw: RunningGateway;
  beforeAll(async () => {
    backend = await startEchoServer();
    gw = await startGateway({
      protos: [],
      descriptorSets: [image(TEST_PROTOS, "serve.binpb")],
      backend: backend.address,
    });
  });
  afterAll(async () => {
    await gw?.close();
    await backend?.close();
  });

  it("should transcode maps, oneofs, json_name, optional and well-known types", async () => {
    const body = {
      s: "x",
      mi: { "7": { name: "seven" } },
      mb: { true: "1" },
      ob: 0,
      customName: "c",
      opt: 0,
      ts: "2024-01-01T00:00:00Z",
      any: { "@type": "type.googleapis.com/test.v1.Inner", n: 2 },
    };
    const res = await gw.call("POST", "/v1/echo", { body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(body);
    expect(backend.last().request).toMatchObject({
      json_named: "c",
      mi: { "7": { name: "seven" } },
      choice: "ob",
    });
  });

  it("should route by the descriptors' http rules", async () => {
    const res = await gw.call("GET", "/v1/echo/ann/n/3?i64=5");
    expect(res.body).toEqual({ inner: { name: "ann", n: 3 }, i64: "5" });
  });
});

describe("bad descriptor sets", () => {
  it.each([
    ["a missing file", "/no/such.binpb", /PROTO_NOT_FOUND: \/no\/such\.binpb: descriptor set cannot be read/],
    [
      "a file that is not a descriptor set",
      join(REPO, "README.md"),
      /PROTO_SYNTAX: .*README\.md: not a FileDescriptorSet/,
    ],
  ])("should be a load error naming %s", (_name, file, message) => {
    expect(() => loadConfig({ protos: [], descriptorSets: [file] })).toThrow(message);
  });

  it("should refuse a name protobufjs would drop (a field named __proto__)", () => {
    const dir = mkdtempSync(join(tmpdir(), "protogate-reserved-"));
    writeFileSync(
      join(dir, "r.proto"),
      'syntax = "proto3";\npackage r;\nmessage M { string __proto__ = 1; }\n',
    );
    const file = image(dir, "reserved.binpb");
    expect(() => loadConfig({ protos: [], descriptorSets: [file] })).toThrow(
      /PROTO_SYNTAX: .*reserved\.binpb#r\.proto: the name __proto__ cannot be carried/,
    );
  });
});

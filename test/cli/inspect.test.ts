import { describe, expect, it } from "vitest";
import { TEST_PROTOS } from "../helpers/echo-server.js";
import { run } from "../helpers/process.js";
import { tree } from "../helpers/tree.js";

const BIN = "bin/protogate.js";

const header =
  'syntax = "proto3";\npackage demo.v1;\nimport "google/api/annotations.proto";\nmessage Req { string name = 1; }\n';

describe("protogate routes", () => {
  it("should print the route table as serve would load it", async () => {
    const p = run("node", [BIN, "routes", "--protos", TEST_PROTOS, "--backend", "127.0.0.1:9"]);
    expect(await p.exited).toBe(0);
    const lines = p.output().split("\n");
    expect(lines[0]).toMatch(/^METHOD +PATH +GRPC METHOD +BODY +RESPONSE BODY +BACKEND$/);
    expect(lines).toContainEqual(
      expect.stringMatching(/^GET +\/v1\/echo\/\{s\} +test\.v1\.EchoService\.EchoGet +- +- +127\.0\.0\.1:9$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^POST +\/v1\/echo\/\{s\}\/inner +test\.v1\.EchoService\.EchoGet +inner +- /),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^GET +\/v1\/rs\/\{s\} +test\.v1\.EchoService\.EchoResponseBody +- +rs /),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^POST +\/test\.v1\.EchoService\/Unbound +test\.v1\.EchoService\.Unbound +\* /),
    );
    expect(p.output()).toMatch(/warning .*ServerStream.*streaming methods are not exposed/);
  });
});

describe("protogate check", () => {
  it("should pass a good configuration", async () => {
    const p = run("node", [BIN, "check", "--protos", TEST_PROTOS, "--backend", "127.0.0.1:9"]);
    expect(await p.exited).toBe(0);
    expect(p.output()).toMatch(/protogate check: ok, 20 routes for 1 service/);
  });

  it("should fail when there is nothing to serve, and warn when nothing gives a route", async () => {
    const empty = run("node", [BIN, "check", "--protos", tree({ "README.md": "no protos here" })]);
    expect(await empty.exited).toBe(1);
    expect(empty.output()).toMatch(
      /error PROTO_NOT_FOUND: .*no \.proto file found[\s\S]*protogate check: 1 error/,
    );
    const dir = tree({ "m.proto": 'syntax = "proto3";\npackage m;\nmessage M { string a = 1; }\n' });
    const noRoutes = run("node", [BIN, "check", "--protos", dir]);
    expect(await noRoutes.exited).toBe(0);
    expect(noRoutes.output()).toMatch(/warning no routes: /);
  });

  it("should report every error in one run and exit 1", async () => {
    const dir = tree({
      "a.proto": `${header}service A {\n  rpc One(Req) returns (Req) { option (google.api.http) = { get: "/v1/{name" }; }\n  rpc Two(Req) returns (Req) { option (google.api.http) = { get: "/v1/x/{nope}" }; }\n  rpc Three(Req) returns (Req) { option (google.api.http) = { get: "/v1/y/{name}" }; }\n  rpc Four(Req) returns (Req) { option (google.api.http) = { get: "/v1/y/{name=*}" }; }\n}\n`,
    });
    const p = run("node", [BIN, "check", "--protos", dir]);
    expect(await p.exited).toBe(1);
    const out = p.output();
    expect(out).toMatch(/error RULE_TEMPLATE: demo\.v1\.A\.One/);
    expect(out).toMatch(/error RULE_FIELD: demo\.v1\.A\.Two .*"nope"/);
    expect(out).toMatch(
      /error ROUTE_CONFLICT: demo\.v1\.A\.Four .*bound by both demo\.v1\.A\.Three .* and demo\.v1\.A\.Four/,
    );
    expect(out).toMatch(/protogate check: 3 errors/);
  });

  it("should name every broken proto file, and still check the rules of the others", async () => {
    const dir = tree({
      "good.proto": `${header}`.replace("demo.v1", "good.v1"),
      "bad1.proto": 'syntax = "proto3";\npackage b1;\nmessage M {\n  string a = ;\n}\n',
      "bad2.proto": 'syntax = "proto3";\npackage b2;\nimport "missing/dep.proto";\n',
      // protobufjs's own message for this one has no file name
      "bad3.proto": 'syntax = "proto3";\npackage b3;\nmessage M { string a = 1 }\n',
      "rule.proto": `${header}service A {\n  rpc One(Req) returns (Req) { option (google.api.http) = { get: "/v1/{nope}" }; }\n}\n`,
    });
    const p = run("node", [BIN, "check", "--protos", dir]);
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/error PROTO_SYNTAX: .*bad1\.proto:4/);
    expect(p.output()).toMatch(/error PROTO_NOT_FOUND: .*import "missing\/dep\.proto" not found/);
    expect(p.output()).toMatch(/error PROTO_SYNTAX: .*bad3\.proto:3: illegal token/);
    expect(p.output()).toMatch(/error RULE_FIELD: demo\.v1\.A\.One \(.*rule\.proto\): path variable "nope"/);
    expect(p.output()).toMatch(/protogate check: 4 errors/);
  });
});

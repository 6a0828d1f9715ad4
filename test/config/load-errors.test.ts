import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readConfigFile } from "../../src/config/config-file.js";
import { LoadError } from "../../src/config/load-error.js";
import { checkConfig, loadConfig } from "../../src/server/load-table.js";
import { tree } from "../helpers/tree.js";

const service = (rules: string, extra = "") => `syntax = "proto3";
package demo.v1;
import "google/api/annotations.proto";
message Req { string name = 1; repeated string tags = 2; Sub sub = 3; map<string, string> m = 4; }
message Sub { string id = 1; }
${extra}
service Demo {
${rules}
}
`;
const rpc = (name: string, rule: string) =>
  `  rpc ${name}(Req) returns (Req) { option (google.api.http) = { ${rule} }; }`;

function loadError(files: Record<string, string>, mappings?: Record<string, string>): LoadError {
  const protos = tree(files);
  try {
    loadConfig({ protos: [protos], mappings: mappings ? tree(mappings) : undefined });
  } catch (err) {
    expect(err).toBeInstanceOf(LoadError);
    return err as LoadError;
  }
  throw new Error("expected a load error");
}

describe("load-time errors name the place and the cause", () => {
  const cases: Array<[string, Record<string, string>, string, RegExp]> = [
    [
      "bad template",
      { "d.proto": service(rpc("A", 'get: "/v1/{name"')) },
      "RULE_TEMPLATE",
      /demo\.v1\.Demo\.A \(.*d\.proto\): invalid path template "\/v1\/\{name"/,
    ],
    [
      "template without leading slash",
      { "d.proto": service(rpc("A", 'get: "v1/x"')) },
      "RULE_TEMPLATE",
      /demo\.v1\.Demo\.A .*must start with '\/'/,
    ],
    [
      "duplicate route",
      { "d.proto": service([rpc("A", 'get: "/v1/{name}"'), rpc("B", 'get: "/v1/{name=*}"')].join("\n")) },
      "ROUTE_CONFLICT",
      /GET \/v1\/\{name=\*\} is bound by both demo\.v1\.Demo\.A .* and demo\.v1\.Demo\.B/,
    ],
    [
      "unknown path field",
      { "d.proto": service(rpc("A", 'get: "/v1/{nope}"')) },
      "RULE_FIELD",
      /path variable "nope": demo\.v1\.Req has no field "nope"/,
    ],
    [
      "repeated path field",
      { "d.proto": service(rpc("A", 'get: "/v1/{tags}"')) },
      "RULE_FIELD",
      /"tags" names a repeated or map field/,
    ],
    [
      "message path field",
      { "d.proto": service(rpc("A", 'get: "/v1/{sub}"')) },
      "RULE_FIELD",
      /"sub" names a message field/,
    ],
    [
      "path through a scalar",
      { "d.proto": service(rpc("A", 'get: "/v1/{name.x}"')) },
      "RULE_FIELD",
      /"name" is not a message/,
    ],
    [
      "unknown body field",
      { "d.proto": service(rpc("A", 'post: "/v1/x" body: "nope"')) },
      "RULE_FIELD",
      /body "nope" is not a top-level field of demo\.v1\.Req/,
    ],
    [
      "nested body field",
      { "d.proto": service(rpc("A", 'post: "/v1/x" body: "sub.id"')) },
      "RULE_FIELD",
      /body "sub\.id" is not a top-level field/,
    ],
    [
      "unknown response_body",
      { "d.proto": service(rpc("A", 'get: "/v1/x" response_body: "nope"')) },
      "RULE_FIELD",
      /response_body "nope"/,
    ],
    [
      "two patterns",
      { "d.proto": service(rpc("A", 'get: "/v1/x" post: "/v1/y"')) },
      "RULE_INVALID",
      /exactly one of get/,
    ],
    [
      "nested additional bindings",
      {
        "d.proto": service(
          rpc("A", 'get: "/v1/x" additional_bindings { get: "/v1/y" additional_bindings { get: "/v1/z" } }'),
        ),
      },
      "RULE_INVALID",
      /cannot contain additional_bindings/,
    ],
    [
      "syntax error",
      { "d.proto": 'syntax = "proto3";\npackage p;\nmessage M {\n  string a = ;\n}\n' },
      "PROTO_SYNTAX",
      /d\.proto.*line 4/,
    ],
    [
      "a syntax error protobufjs reports without its file",
      { "d.proto": 'syntax = "proto3";\npackage p;\nmessage M { string a = 1 }\n' },
      "PROTO_SYNTAX",
      /PROTO_SYNTAX: .*d\.proto:3: illegal token '\}', ';' expected/,
    ],
    [
      "missing import",
      { "d.proto": 'syntax = "proto3";\npackage p;\nimport "nope/other.proto";\n' },
      "PROTO_NOT_FOUND",
      /import "nope\/other\.proto" not found/,
    ],
    [
      "unknown type",
      { "d.proto": 'syntax = "proto3";\npackage p;\nmessage M { Missing m = 1; }\n' },
      "PROTO_RESOLVE",
      /PROTO_RESOLVE: .*d\.proto: no such Type or Enum 'Missing' in Type \.p\.M/,
    ],
    [
      "a field named __proto__ (protobufjs would drop it)",
      {
        "d.proto":
          'syntax = "proto3";\npackage p;\n// __proto__ in a comment is fine\nmessage M {\n  string ok = 1 [json_name = "__proto__x"];\n  string __proto__ = 2;\n}\n',
      },
      "PROTO_SYNTAX",
      /PROTO_SYNTAX: .*d\.proto:6: the name __proto__ cannot be carried/,
    ],
    [
      "an enum value named __proto__",
      { "d.proto": 'syntax = "proto3";\npackage p;\nenum E {\n  E_ZERO = 0;\n  __proto__ = 1;\n}\n' },
      "PROTO_SYNTAX",
      /d\.proto:5: the name __proto__/,
    ],
  ];
  it.each(cases)("%s", (_name, files, code, message) => {
    const err = loadError(files);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  });

  it("should reject a proto directory that does not exist", () => {
    expect(() => loadConfig({ protos: ["/no/such/dir"] })).toThrow(/PROTO_NOT_FOUND: \/no\/such\/dir/);
  });
});

describe("checkConfig reports every problem with its file (issue #21, point 3)", () => {
  it("should report the broken files, and the rule errors of the files that do load", () => {
    const protos = tree({
      "a_nofile.proto": 'syntax = "proto3";\npackage a;\nmessage M { string a = 1 }\n',
      "b_syntax.proto": 'syntax = "proto3";\npackage b;\nmessage M {\n  string a = ;\n}\n',
      "c_import.proto": 'syntax = "proto3";\npackage c;\nimport "missing/dep.proto";\n',
      "d_imports_broken.proto": 'syntax = "proto3";\npackage d;\nimport "b_syntax.proto";\n',
      "e_rule.proto": service(rpc("A", 'get: "/v1/{nope}"')),
      "f_type.proto": 'syntax = "proto3";\npackage f;\nmessage M { Missing m = 1; }\n',
      "g_good.proto": service(rpc("B", 'get: "/v1/b/{name}"')).replace("demo.v1", "good.v1"),
    });
    const { config, errors } = checkConfig({ protos: [protos] });
    expect(errors.map((e) => `${e.code} ${e.where.replace(`${protos}/`, "")}`).sort()).toEqual([
      "PROTO_NOT_FOUND c_import.proto",
      "PROTO_RESOLVE f_type.proto",
      "PROTO_SYNTAX a_nofile.proto:3",
      "PROTO_SYNTAX b_syntax.proto:4",
      "RULE_FIELD demo.v1.Demo.A (e_rule.proto)",
    ]);
    // the files that load are compiled: their routes are there
    expect(config?.table.routes.map((r) => r.template.source)).toEqual(["/v1/b/{name}"]);
  });

  it("should report files that load alone but not together", () => {
    const same = 'syntax = "proto3";\npackage p;\nmessage M { string a = 1; }\n';
    const { errors } = checkConfig({ protos: [tree({ "one.proto": same, "two.proto": same })] });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/duplicate name 'M'/);
  });
});

describe("mapping files", () => {
  const protos = { "d.proto": service(rpc("A", 'get: "/v1/a/{name}"') + "\n  rpc B(Req) returns (Req);") };

  it("should add rules, override annotations, and set backends and per-method settings", () => {
    const config = loadConfig({
      protos: [tree(protos)],
      mappings: tree({
        "demo.yaml": [
          "http:",
          "  rules:",
          "    - selector: demo.v1.Demo.A",
          "      get: /v2/a/{name}",
          "    - selector: demo.v1.Demo.B",
          "      post: /v1/b",
          '      body: "*"',
          "      additional_bindings:",
          "        - get: /v1/b/{name}",
          "backends:",
          "  demo.v1.Demo: 127.0.0.1:7000",
          "methods:",
          "  demo.v1.Demo.B:",
          "    timeout: 2.5s",
          "    unknownQueryParameters: reject",
          "    json: { emitUnpopulated: true }",
        ].join("\n"),
      }),
    });
    const routes = config.table.routes.map((r) => `${r.httpMethod} ${r.template.source} ${r.method.name}`);
    expect(routes).toEqual(["GET /v2/a/{name} A", "POST /v1/b B", "GET /v1/b/{name} B"]);
    expect(config.backends.get("demo.v1.Demo")).toBe("127.0.0.1:7000");
    const b = config.table.routes.find((r) => r.method.name === "B")!;
    expect(b.settings).toMatchObject({
      timeoutMs: 2500,
      unknownQueryParameters: "reject",
      json: { emitUnpopulated: true, useProtoNames: false },
    });
  });

  const bad: Array<[string, string, RegExp]> = [
    // The place comes as file:line: path (the line of the key or list item the error is about).
    ["unknown top-level key", "# demo\nrulez: []", /demo\.yaml:2: rulez: unknown key/],
    [
      "unknown rule key",
      "http:\n  rules:\n    - selector: demo.v1.Demo.A\n      gett: /x",
      /demo\.yaml:4: http\.rules\[0\]\.gett: unknown key/,
    ],
    [
      "rule without selector",
      "http:\n  rules:\n    - selector: demo.v1.Demo.A\n      get: /a\n    - get: /x",
      /demo\.yaml:5: http\.rules\[1\]: a rule needs a selector/,
    ],
    [
      "unknown method",
      "http:\n  rules:\n    - selector: demo.v1.Demo.Nope\n      get: /x",
      // #21.1: named at its line, with the SELECTOR_UNKNOWN code
      /SELECTOR_UNKNOWN: .*demo\.yaml:3: http\.rules\[0\]: no loaded proto declares the method demo\.v1\.Demo\.Nope/,
    ],
    [
      "bad timeout",
      "methods:\n  demo.v1.Demo.A:\n    json: {}\n    timeout: soon",
      /demo\.yaml:4: methods\.demo\.v1\.Demo\.A\.timeout: expected a duration/,
    ],
    [
      "bad policy",
      "methods:\n  demo.v1.Demo.A:\n    unknownQueryParameters: maybe",
      /unknownQueryParameters: expected "ignore" or "reject"/,
    ],
    ["YAML syntax", "http: [", /demo\.yaml: .*line 1/],
  ];
  it.each(bad)("should reject %s", (_name, yaml, message) => {
    const err = loadError(protos, { "demo.yaml": yaml });
    expect(err.message).toMatch(message);
  });
});

describe("config file errors name file:line and the key", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["unknown top-level key", "port: 8080", /protogate\.yaml:1: port: unknown key/],
    [
      "unknown key in a section",
      "server:\n  port: 8080\n  bodyLimt: 1mb",
      /protogate\.yaml:3: server\.bodyLimt: unknown key/,
    ],
    [
      "bad value in a nested section",
      "amqp:\n  brokers: { main: amqp://127.0.0.1 }\n  confirmTimeout: later",
      /protogate\.yaml:3: amqp\.confirmTimeout: expected a duration/,
    ],
    [
      "an admin listener without a port",
      "server:\n  admin: { host: 0.0.0.0 }",
      /protogate\.yaml:2: server\.admin: the admin listener needs a port/,
    ],
    ["YAML syntax", "server: {port: 1", /CONFIG_INVALID: .*protogate\.yaml: .*line 1/],
  ];
  it.each(cases)("%s", (_name, yaml, message) => {
    const file = join(tree({ "protogate.yaml": yaml }), "protogate.yaml");
    expect(() => readConfigFile(file)).toThrow(message);
  });

  it("says why a file cannot be read", () => {
    expect(() => readConfigFile("/no/such/protogate.yaml")).toThrow(
      /CONFIG_INVALID: \/no\/such\/protogate\.yaml: ENOENT/,
    );
  });
});

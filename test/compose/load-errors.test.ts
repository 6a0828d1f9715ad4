import { describe, expect, it } from "vitest";
import { LoadError } from "../../src/config/load-error.js";
import { checkConfig, loadConfig } from "../../src/server/load-table.js";
import { TEST_PROTOS } from "../helpers/echo-server.js";
import { mappingsDir, SVC } from "./helpers.js";

/** A mapping file with one composition; `calls` and `output` are YAML lines indented by 6. */
const composition = (calls: string, output = "      - { key: a, from: a }", path = "/v1/c/{s}") =>
  `compositions:\n  - get: ${path}\n    calls:\n${calls}\n    output:\n${output}\n`;
const call = (name: string, request = "", extra = "") =>
  `      - name: ${name}\n        method: ${SVC}.EchoAll\n        request: { ${request} }\n${extra}`;

function loadError(yaml: string): LoadError {
  try {
    loadConfig({ protos: [TEST_PROTOS], mappings: mappingsDir(yaml) });
  } catch (err) {
    expect(err).toBeInstanceOf(LoadError);
    return err as LoadError;
  }
  throw new Error("expected a load error");
}

describe("composition load errors have a stable code and say file:line", () => {
  const cases: Array<[string, string, string, RegExp]> = [
    [
      "unknown method",
      composition(`      - { name: a, method: ${SVC}.Nope }`),
      "COMPOSE_FIELD",
      /:4: compositions\[0\]\.calls\[0\]\.method: no loaded proto declares/,
    ],
    [
      "unknown request field",
      composition(call("a", "nope: path.s")),
      "COMPOSE_FIELD",
      /:6: .*request\.nope: .*has no field "nope"/,
    ],
    [
      "unknown path variable",
      composition(call("a", "s: path.t")),
      "COMPOSE_FIELD",
      /:6: .*request\.s: .*no variable \{t\}/,
    ],
    [
      "unknown call",
      composition(call("a", "s: zz.s")),
      "COMPOSE_FIELD",
      /neither path, query, body, item nor a call name/,
    ],
    [
      "unknown result field",
      composition(call("a", "s: path.s") + call("b", "s: a.nope")),
      "COMPOSE_FIELD",
      /:9: .*calls\[1\]\.request\.s: .*has no field "nope"/,
    ],
    [
      "incompatible types",
      composition(call("a", "s: path.s") + call("b", "s: a.i32")),
      "COMPOSE_FIELD",
      /types differ \(int32 vs string\)/,
    ],
    [
      "list into a single field",
      composition(call("a", "s: path.s") + call("b", "s: a.rs")),
      "COMPOSE_FIELD",
      /a list cannot fill a single field/,
    ],
    [
      "text into a message",
      composition(call("a", "inner: path.s")),
      "COMPOSE_FIELD",
      /text cannot fill a message field/,
    ],
    [
      "item outside forEach",
      composition(call("a", "s: item")),
      "COMPOSE_FIELD",
      /only known in a call with forEach/,
    ],
    [
      "forEach over a single field",
      composition(call("a", "s: path.s") + call("b", "s: item", "        forEach: a.s\n")),
      "COMPOSE_FIELD",
      /:10: .*forEach: "a\.s" is not a list/,
    ],
    ["self dependency", composition(call("a", "s: a.s")), "COMPOSE_CYCLE", /reads its own result/],
    [
      "cycle",
      composition(call("a", "s: b.s") + call("b", "s: a.s")),
      "COMPOSE_CYCLE",
      /:4: compositions\[0\]\.calls\[0\]: .*a -> b -> a/,
    ],
    [
      "colliding output keys",
      composition(call("a") + call("b"), "      - { key: a, from: a }\n      - { key: a, from: b }"),
      "COMPOSE_OUTPUT",
      /:13: .*output\[1\]\.key: output key "a" is used twice/,
    ],
    [
      "object merge with common fields",
      composition(
        call("a") + call("b"),
        "      - { key: a, from: a, merge: object }\n      - { key: a, from: b, merge: object }",
      ),
      "COMPOSE_OUTPUT",
      /both have "s"/,
    ],
    [
      "concat of a non-list",
      composition(call("a"), "      - { key: a, from: a.s, merge: concat }"),
      "COMPOSE_OUTPUT",
      /concat needs a list/,
    ],
    [
      "output from no call",
      composition(call("a"), "      - { key: a, from: path.s }"),
      "COMPOSE_OUTPUT",
      /does not start with a call name/,
    ],
    [
      "reserved output key",
      composition(call("a"), "      - { key: errors, from: a }"),
      "COMPOSE_OUTPUT",
      /failed optional calls/,
    ],
    [
      "bad template",
      composition(call("a"), undefined, "/v1/{s"),
      "RULE_TEMPLATE",
      /compose\.yaml:2: compositions\[0\]\.get/,
    ],
    [
      "conflict with a proto route",
      composition(call("a"), undefined, "/v1/echo/{s}"),
      "ROUTE_CONFLICT",
      /compose\.yaml:2: compositions\[0\]: .*\/v1\/echo\/\{s\}/,
    ],
    [
      "unknown key",
      composition(call("a", "", "        retries: 3\n")),
      "CONFIG_INVALID",
      /:7: .*calls\[0\]\.retries: unknown key/,
    ],
    [
      "a reserved call name",
      composition(call("item")),
      "CONFIG_INVALID",
      /:4: compositions\[0\]\.calls\[0\]\.name: a call needs a name \(letters, digits, _\), not path, query, body or item/,
    ],
    [
      "a per-call setting on the composite (retry belongs to the call's method)",
      composition(call("a"), undefined, "/v1/c/{s}\n    retry: { attempts: 2 }"),
      "CONFIG_INVALID",
      /:3: compositions\[0\]\.retry: unknown key; expected one of: timeout, maxTimeout, json, auth, rateLimit, corsOrigins/,
    ],
    [
      "a malformed auth requirement on the composite",
      composition(call("a"), undefined, "/v1/c/{s}\n    auth: sometimes"),
      "CONFIG_INVALID",
      /:3: compositions\[0\]\.auth: expected "public" or "authenticated", got "sometimes"/,
    ],
    [
      "a malformed rate limit on the composite",
      composition(call("a"), undefined, "/v1/c/{s}\n    rateLimit: [{ rate: 0 }]"),
      "CONFIG_INVALID",
      /:3: compositions\[0\]\.rateLimit\[0\]\.rate: expected a whole number/,
    ],
  ];
  it.each(cases)("%s", (_name, yaml, code, message) => {
    const err = loadError(yaml);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  });

  it("should be reported by protogate check beside other problems", () => {
    const yaml = `${composition(call("a", "s: b.s") + call("b", "s: a.s"))}  - get: /v1/d\n    calls:\n${call("x", "nope: path.s")}    output:\n      - { key: x, from: x }\n`;
    const { errors } = checkConfig({ protos: [TEST_PROTOS], mappings: mappingsDir(yaml) });
    expect(errors.map((e) => e.code)).toEqual(["COMPOSE_CYCLE", "COMPOSE_FIELD"]);
  });

  it("should give a composite its own settings over the route defaults", () => {
    const yaml = composition(
      call("a", "s: path.s"),
      undefined,
      "/v1/c/{s}\n    auth: { require: authenticated, scopes: { allOf: [x] } }\n    rateLimit: none\n    timeout: 3s\n    json: { useProtoNames: true }",
    );
    const { table } = loadConfig({
      protos: [TEST_PROTOS],
      mappings: mappingsDir(yaml),
      routeDefaults: { timeoutMs: 9000 },
    });
    const { settings } = table.composites[0]!;
    expect(settings.auth).toEqual({ require: "authenticated", scopes: { allOf: ["x"] } });
    expect(settings.rateLimit).toEqual([]);
    expect(settings.timeoutMs).toBe(3000);
    expect(settings.json).toMatchObject({ useProtoNames: true, emitUnpopulated: false });
  });

  it("should load a composition whose paths and types agree", () => {
    const yaml = composition(
      call("a", "s: path.s, rs: query.r") + call("b", "inner: a.inner, rs: a.rs, s: body.x"),
      "      - { key: a, from: a.rs, merge: concat }\n      - { key: a, from: b.rs, merge: concat }",
    );
    const { table } = loadConfig({ protos: [TEST_PROTOS], mappings: mappingsDir(yaml) });
    expect(table.composites.map((c) => c.composition.calls.map((x) => x.name))).toEqual([["a", "b"]]);
  });
});

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { readConfigFile } from "../../src/config/config-file.js";
import { LoadError } from "../../src/config/load-error.js";
import { loadMappings } from "../../src/config/mapping-files.js";
import { schemaFiles } from "../../src/config/schema-files.js";
import { REPO } from "../helpers/process.js";
import { tree } from "../helpers/tree.js";

const shipped = (name: string) => readFileSync(join(REPO, "schemas", name), "utf8");

describe("the shipped schema files", () => {
  it.each(Object.entries(schemaFiles()))(
    "schemas/%s is what the code generates (npm run schemas)",
    (name, text) => {
      expect(shipped(name)).toBe(text);
    },
  );

  // What an editor or CI tool does with them: a plain ajv, no protogate code.
  const ajv = new Ajv({ allErrors: true, strict: false });
  const config = ajv.compile(JSON.parse(shipped("config.schema.json")));
  const mapping = ajv.compile(JSON.parse(shipped("mapping.schema.json")));

  /** The README's YAML blocks that are config or mapping files, told apart by their keys. */
  function readmeExamples(): Array<{ kind: "config" | "mapping"; line: number; value: unknown }> {
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    const out: Array<{ kind: "config" | "mapping"; line: number; value: unknown }> = [];
    for (const m of readme.matchAll(/```yaml\n([\s\S]*?)```/g)) {
      const value = parse(m[1]!) as Record<string, unknown> | null;
      if (!value || typeof value !== "object") continue;
      const keys = Object.keys(value);
      const amqp = value.amqp as Record<string, unknown> | undefined;
      const isMapping =
        keys.includes("http") || keys.includes("methods") || (amqp !== undefined && "bindings" in amqp);
      const isConfig = keys.some((k) =>
        ["server", "protos", "auth", "rateLimit", "cors", "amqp"].includes(k),
      );
      if (!isMapping && !isConfig) continue;
      const line = readme.slice(0, m.index).split("\n").length;
      out.push({ kind: isMapping ? "mapping" : "config", line, value });
    }
    return out;
  }

  const examples = readmeExamples();
  it("should find the README's config and mapping examples", () => {
    expect(examples.filter((e) => e.kind === "config").length).toBeGreaterThanOrEqual(3);
    expect(examples.filter((e) => e.kind === "mapping").length).toBeGreaterThanOrEqual(2);
  });
  it.each(examples.map((e) => [e.kind, e.line, e] as const))(
    "README %s example at line %i validates",
    (_k, _l, e) => {
      const validate = e.kind === "config" ? config : mapping;
      expect(validate(e.value) ? [] : validate.errors).toEqual([]);
    },
  );

  it.each([
    ["config", { server: { prot: 1 } }, "/server"],
    ["config", { defaults: { timeout: "soon" } }, "/defaults/timeout"],
    ["mapping", { http: { rules: [{ get: "/x" }] } }, "/http/rules/0"],
  ] as const)("should refuse a bad %s file (%j)", (kind, value, path) => {
    const validate = kind === "config" ? config : mapping;
    expect(validate(value)).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toContain(path);
  });

  it("should be named by the README's yaml-language-server lines", () => {
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    for (const name of Object.keys(schemaFiles()))
      expect(readme).toMatch(new RegExp(`\\$schema=(\\.\\./|\\./)node_modules/protogate/schemas/${name}`));
  });

  it("should describe every property and close every object", () => {
    const walk = (node: unknown, at: string, out: string[]) => {
      if (!node || typeof node !== "object") return;
      const o = node as Record<string, unknown>;
      if (o.properties) {
        if (o.additionalProperties !== false) out.push(`${at}: open object`);
        for (const [k, v] of Object.entries(o.properties as Record<string, Record<string, unknown>>))
          if (typeof v.description !== "string") out.push(`${at}/properties/${k}: no description`);
      }
      for (const [k, v] of Object.entries(o)) walk(v, `${at}/${k}`, out); // arrays too: their keys are indexes
    };
    for (const name of Object.keys(schemaFiles())) {
      const out: string[] = [];
      walk(JSON.parse(shipped(name)), name, out);
      expect(out).toEqual([]);
    }
  });
});

describe("config file errors: file:line, key path, every problem", () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      "a bad size",
      "server:\n  port: 8080\n  bodyLimit: lots",
      /protogate\.yaml:3: server\.bodyLimit: expected a size/,
    ],
    [
      "a port out of range",
      "server:\n  port: 70000",
      /protogate\.yaml:2: server\.port: expected a port number/,
    ],
    [
      "a symmetric algorithm",
      "auth:\n  providers:\n    - issuer: x\n      jwksUri: http://a\n      algorithms: [RS256, HS256]",
      /protogate\.yaml:5: auth\.providers\[0\]\.algorithms\[1\]: "HS256" is not allowed/,
    ],
    [
      "a zero period",
      "rateLimit:\n  default:\n    - rate: 5\n      per: 0s",
      /protogate\.yaml:4: rateLimit\.default\[0\]\.per: expected a duration/,
    ],
    [
      "an origin without scheme",
      "cors:\n  origins: [app.example.com]",
      /protogate\.yaml:2: cors\.origins\[0\]: "app\.example\.com" is not an origin/,
    ],
    ["an unknown log level", "logLevel: loud", /protogate\.yaml:1: logLevel: expected one of "fatal", /],
    [
      "an unknown store",
      "amqp:\n  operations:\n    store: disk",
      /protogate\.yaml:3: amqp\.operations\.store: expected "memory" or "redis", got "disk"/,
    ],
    [
      "a bad default requirement",
      "defaults:\n  auth: { require: admin }",
      /protogate\.yaml:2: defaults\.auth\.require: expected "public" or "authenticated"/,
    ],
    [
      "a backend that is not a string",
      "backends:\n  services:\n    a.v1.S: 7",
      /protogate\.yaml:3: backends\.services\.a\.v1\.S: expected a string, got 7/,
    ],
    [
      "a proto directory that is not a string",
      "protos: [1]",
      /protogate\.yaml:1: protos\[0\]: expected a string/,
    ],
    [
      "trustProxy of a wrong type",
      "trustProxy: 3",
      /protogate\.yaml:1: trustProxy: expected true or false or a string/,
    ],
    [
      "a TLS key in the wrong place",
      "backends:\n  default: tls://a:1\n  tls: { cert: c.pem, keyfile: k.pem }",
      /protogate\.yaml:3: backends\.tls\.keyfile: unknown key; expected one of: ca, cert, key/,
    ],
  ];
  it.each(cases)("%s", (_name, yaml, message) => {
    const file = join(tree({ "protogate.yaml": yaml }), "protogate.yaml");
    expect(() => readConfigFile(file)).toThrow(message);
  });

  it("should report every problem, in the order of the file", () => {
    const yaml = "server:\n  prot: 1\nlogLevel: loud\namqp:\n  confirmTimeout: 0\n";
    const file = join(tree({ "protogate.yaml": yaml }), "protogate.yaml");
    const err = catchLoadError(() => readConfigFile(file));
    expect(err.problems.map((p) => p.where)).toEqual([
      `${file}:2: server.prot`,
      `${file}:3: logLevel`,
      `${file}:5: amqp.confirmTimeout`,
    ]);
    expect(err.message.split("\n")).toEqual([
      `CONFIG_INVALID: ${file}:2: server.prot: unknown key; expected one of: host, port, bodyLimit, maxHeaderSize, admin, shutdown, requestTimeout, headersTimeout, keepAliveTimeout, maxConnections, tls, http2, compression`,
      expect.stringMatching(/^ {2}.*protogate\.yaml:3: logLevel: expected one of/),
      expect.stringMatching(/^ {2}.*protogate\.yaml:5: amqp\.confirmTimeout: expected a duration/),
    ]);
  });

  it('should read "0" as no timeout', () => {
    const file = join(tree({ "protogate.yaml": 'defaults: { timeout: "0" }' }), "protogate.yaml");
    expect(readConfigFile(file).routeDefaults).toEqual({ timeoutMs: 0 });
  });
});

describe("mapping file errors: file:line, key path", () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      "an unknown key in an additional binding",
      "http:\n  rules:\n    - selector: a.B.C\n      get: /x\n      additional_bindings:\n        - gett: /y",
      /m\.yaml:6: http\.rules\[0\]\.additional_bindings\[0\]\.gett: unknown key/,
    ],
    [
      "an unknown AMQP mode",
      "amqp:\n  bindings:\n    - selector: a.B.C\n      exchange: x\n      mode: fire",
      /m\.yaml:5: amqp\.bindings\[0\]\.mode: expected "command" or "rpc", got "fire"/,
    ],
    [
      "a binding without exchange",
      "amqp:\n  bindings:\n    - selector: a.B.C",
      /m\.yaml:3: amqp\.bindings\[0\]: a binding needs a selector and an exchange/,
    ],
    [
      "a zero rate",
      "methods:\n  a.B.C:\n    rateLimit: [{ rate: 0 }]",
      /m\.yaml:3: methods\.a\.B\.C\.rateLimit\[0\]\.rate: expected a whole number/,
    ],
    [
      "a bad method origin",
      "methods:\n  a.B.C:\n    corsOrigins: ftp://x",
      /m\.yaml:3: methods\.a\.B\.C\.corsOrigins: "ftp:\/\/x" is not an origin/,
    ],
    ["an empty backend", 'backends:\n  a.B: ""', /m\.yaml:2: backends\.a\.B: expected a non-empty string/],
    [
      "a custom pattern without path",
      "http:\n  rules:\n    - selector: a.B.C\n      custom: { kind: HEAD }",
      /m\.yaml:4: http\.rules\[0\]\.custom: missing key "path"/,
    ],
  ];
  it.each(cases)("%s", (_name, yaml, message) => {
    expect(() => loadMappings(tree({ "m.yaml": yaml }))).toThrow(message);
  });
});

function catchLoadError(f: () => unknown): LoadError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(LoadError);
    return err as LoadError;
  }
  throw new Error("expected a load error");
}

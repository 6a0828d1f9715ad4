import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { parseServeArgs } from "../../src/cli/args.js";
import { runInit, STARTER_FILES } from "../../src/cli/init.js";
import { checkConfig } from "../../src/server/load-table.js";
import { REPO } from "../helpers/process.js";

/** `protogate init [dir]`: a starter project that loads as written, and never overwrites a file. */

function sink(): Writable & { text: () => string } {
  let text = "";
  const w = new Writable({
    write(chunk, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return Object.assign(w, { text: () => text });
}

function init(argv: string[]) {
  const out = sink();
  const err = sink();
  const code = runInit(argv, out, err);
  return { code, out: out.text(), err: err.text() };
}

const fresh = () => mkdtempSync(join(tmpdir(), "protogate-init-"));

describe("protogate init", () => {
  it("should write protogate.yaml, one annotated proto and a mapping file that load as serve loads them", () => {
    const dir = fresh();
    const { code, out } = init([dir]);
    expect(code).toBe(0);
    for (const [path] of STARTER_FILES) {
      expect(existsSync(join(dir, path))).toBe(true);
      expect(out).toContain(join(dir, path));
    }
    const result = checkConfig(parseServeArgs(["--config", join(dir, "protogate.yaml")]));
    expect(result.errors).toEqual([]);
    const routes = result.config!.table.routes.map((r) => `${r.httpMethod} ${r.template.source}`);
    expect(routes).toEqual(expect.arrayContaining(["GET /v1/greeter/{name}", "POST /v1/greeter:sayHello"]));
  });

  it.each([
    ["protogate.yaml", "node_modules/protogate/schemas/config.schema.json"],
    ["mappings/greeter.yaml", "../node_modules/protogate/schemas/mapping.schema.json"],
  ])("should point %s at the schema the package ships (%s, relative to the file)", (path, schema) => {
    const text = STARTER_FILES.find(([p]) => p === path)![1];
    expect(text.split("\n")[0]).toBe(`# yaml-language-server: $schema=${schema}`);
  });

  it("should default to the working directory, through the CLI", () => {
    const dir = fresh();
    const p = spawnSync("node", [join(REPO, "bin/protogate.js"), "init"], { cwd: dir, encoding: "utf8" });
    expect(p.status).toBe(0);
    for (const [path] of STARTER_FILES) expect(existsSync(join(dir, path))).toBe(true);
  });

  it("should refuse to overwrite, and then write nothing at all", () => {
    const dir = fresh();
    mkdirSync(join(dir, "mappings"));
    writeFileSync(join(dir, "mappings", "greeter.yaml"), "mine\n");
    const { code, err } = init([dir]);
    expect(code).toBe(1);
    expect(err).toContain(`${join(dir, "mappings", "greeter.yaml")} exists`);
    expect(readFileSync(join(dir, "mappings", "greeter.yaml"), "utf8")).toBe("mine\n");
    expect(existsSync(join(dir, "protogate.yaml"))).toBe(false);
    expect(existsSync(join(dir, "protos"))).toBe(false);
  });

  it("should refuse a second run in the same directory", () => {
    const dir = fresh();
    expect(init([dir]).code).toBe(0);
    writeFileSync(join(dir, "protogate.yaml"), "edited\n");
    expect(init([dir]).code).toBe(1);
    expect(readFileSync(join(dir, "protogate.yaml"), "utf8")).toBe("edited\n");
  });

  it.each([[["a", "b"]], [["--force"]]])("should reject the arguments %j with exit code 2", (argv) => {
    const { code, err } = init(argv);
    expect(code).toBe(2);
    expect(err).toContain("usage: protogate init");
  });
});

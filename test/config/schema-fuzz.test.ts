import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { readConfigFile } from "../../src/config/config-file.js";
import { LoadError } from "../../src/config/load-error.js";
import { loadMappings } from "../../src/config/mapping-files.js";
import { REPO } from "../helpers/process.js";
import { rng } from "../helpers/random.js";
import { tree } from "../helpers/tree.js";

/**
 * Property: whatever a config or mapping file holds, loading it either works or throws a CONFIG_INVALID
 * LoadError whose every problem names the file and, where it is about a key, its line; never a TypeError
 * from a reader that trusted a shape the schema does not guarantee. Files are the README's examples with
 * random edits (a value replaced, a key added or removed).
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const readmeBlocks = (): Array<Record<string, Json>> =>
  [...readFileSync(join(REPO, "README.md"), "utf8").matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => parse(m[1]!) as Record<string, Json> | null)
    .filter((v): v is Record<string, Json> => v !== null && typeof v === "object");

const MAPPING_KEYS = ["http", "methods"];
const blocks = readmeBlocks();
const isMapping = (b: Record<string, Json>) =>
  Object.keys(b).some((k) => MAPPING_KEYS.includes(k)) ||
  (typeof b.amqp === "object" && b.amqp !== null && "bindings" in b.amqp);
const configBase = Object.assign({}, ...blocks.filter((b) => !isMapping(b))) as Record<string, Json>;
delete (configBase.backends as Record<string, Json>).tls; // its PEM files do not exist here
const mappingBase = Object.assign({}, ...blocks.filter(isMapping)) as Record<string, Json>;

const VALUES: Json[] = [
  "x",
  "",
  "5s",
  "0",
  "0s",
  "1mb",
  "none",
  "public",
  "*",
  "https://a.example",
  "10.0.0.0/8",
  0,
  -1,
  1.5,
  70000,
  true,
  false,
  null,
  [],
  {},
  ["a"],
  [{}],
  { k: "v" },
  { rate: 1 },
];

function mutate(root: Json, r: ReturnType<typeof rng>): Json {
  const copy = structuredClone(root);
  // Walk to a random container, then edit one of its entries.
  let node = copy;
  for (let depth = r.int(6); depth > 0; depth--) {
    const children =
      node && typeof node === "object" ? Object.values(node).filter((c) => c && typeof c === "object") : [];
    if (children.length === 0) break;
    node = r.pick(children);
  }
  if (!node || typeof node !== "object") return copy;
  if (Array.isArray(node)) {
    if (node.length > 0 && r.chance(0.7)) node[r.int(node.length)] = r.pick(VALUES);
    else node.push(r.pick(VALUES));
    return copy;
  }
  const keys = Object.keys(node);
  const edit = r.int(3);
  if (edit === 0 && keys.length > 0) delete node[r.pick(keys)];
  else if (edit === 1 || keys.length === 0)
    node[r.chance(0.5) ? "typo" : `${r.pick(keys.concat("k"))}x`] = r.pick(VALUES);
  else node[r.pick(keys)] = r.pick(VALUES);
  return copy;
}

function expectLoadsOrExplains(load: () => unknown, file: string, seed: number, yaml: string) {
  try {
    load();
  } catch (err) {
    if (!(err instanceof LoadError)) throw new Error(`seed ${seed}: ${String(err)}\n${yaml}`);
    expect(err.code, `seed ${seed}`).toBe("CONFIG_INVALID");
    // Every problem is about a key (so it has a line) or about the whole file.
    const located = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(:\\d+: |$)`);
    for (const p of err.problems) expect(p.where, `seed ${seed}: ${err.message}\n${yaml}`).toMatch(located);
  }
}

describe("loading mutated files", () => {
  it("should find the README's examples to start from", () => {
    expect(Object.keys(configBase)).toEqual(expect.arrayContaining(["server", "auth", "amqp", "cors"]));
    expect(Object.keys(mappingBase)).toEqual(expect.arrayContaining(["http", "methods", "amqp"]));
  });

  it("config files: a result or a located CONFIG_INVALID, for 500 random edits", () => {
    const dir = tree({});
    const file = join(dir, "protogate.yaml");
    for (let seed = 1; seed <= 500; seed++) {
      const r = rng(seed);
      let value: Json = configBase;
      for (let n = 1 + r.int(3); n > 0; n--) value = mutate(value, r);
      const yaml = stringify(value);
      writeFileSync(file, yaml);
      expectLoadsOrExplains(() => readConfigFile(file), file, seed, yaml);
    }
  }, 120_000); // a loop of 500 loads: slow on a busy machine, not a timing assertion

  it("mapping files: merged or a located CONFIG_INVALID, for 300 random edits", () => {
    const dir = tree({});
    const file = join(dir, "m.yaml");
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      let value: Json = mappingBase;
      for (let n = 1 + r.int(3); n > 0; n--) value = mutate(value, r);
      const yaml = stringify(value);
      writeFileSync(file, yaml);
      expectLoadsOrExplains(() => loadMappings(dir), file, seed, yaml);
    }
  }, 120_000);
});

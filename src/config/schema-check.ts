import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { LoadError, type Problem } from "./load-error.js";
import type { JsonSchema } from "./schema-kit.js";

/**
 * Validates config values against the JSON Schema fragments (ajv, draft-07, every error at once) and
 * turns ajv's errors into load problems: a dotted key path (`http.rules[1].get`) and a message that says
 * what to write (`unknown key; expected one of: ...`, `expected a duration such as "5s"`).
 */

// strictRequired off: `anyOf: [{required: [a]}, {required: [b]}]` names properties declared beside it.
const OPTIONS = { strict: true, strictRequired: false, allowUnionTypes: true } as const;
// Two compilers. Values are checked with validators that stop at the first error: with `allErrors` the
// config file's validator is several times larger, and compiling one that large in the serving process
// slowed Node's process.nextTick, and with it every request, by about a fifth (bench/README.md, "the
// config-file effect"). Only a value that fails is checked again, by a validator that collects every
// error, compiled then: a bad file is reported whole, at the cost of that compile when one is met.
const firstError = new Ajv({ ...OPTIONS, allErrors: false });
const everyError = new Ajv({ ...OPTIONS, allErrors: true });
for (const ajv of [firstError, everyError])
  ajv.addKeyword({ keyword: "errorMessage", schemaType: ["string", "object"] });

/** A schema's validator by `ajv`, compiled the first time it is asked for, once per schema object. */
function compiledBy(ajv: Ajv): (schema: JsonSchema) => ValidateFunction {
  const compiled = new WeakMap<JsonSchema, ValidateFunction>();
  return (schema) => {
    let validate = compiled.get(schema);
    if (!validate) compiled.set(schema, (validate = ajv.compile(schema)));
    return validate;
  };
}

/** The pass/fail validator of a schema. */
const validatorOf = compiledBy(firstError);
/** The validator that lists every error of a value, compiled the first time one fails. */
const reporterOf = compiledBy(everyError);

/** What is wrong with `value`, in document order of the schema; empty when it fits. */
export function schemaProblems(schema: JsonSchema, value: unknown): Problem[] {
  if (validatorOf(schema)(value)) return [];
  const report = reporterOf(schema);
  report(value);
  const errors = report.errors ?? [];
  // A failed anyOf/oneOf says it once; the failures of its branches are noise.
  const alternatives = errors
    .filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf")
    .map((e) => `${e.schemaPath}/`);
  const seen = new Set<string>();
  const out: Problem[] = [];
  for (const e of errors) {
    if (e.keyword === "if" || alternatives.some((p) => e.schemaPath.startsWith(p))) continue;
    const p = problemOf(schema, value, e);
    const key = `${p.where}\0${p.detail}`;
    if (!seen.has(key)) out.push(p);
    seen.add(key);
  }
  return out;
}

/**
 * Throws a CONFIG_INVALID LoadError listing every problem of `value` (`where` + its key path, e.g.
 * "file.yaml: auth" + "providers[0].issuer"); returns `value` typed as `T` when it fits the schema.
 */
export function checkShape<T>(schema: JsonSchema, value: unknown, where: string): T {
  const problems = schemaProblems(schema, value);
  if (problems.length > 0)
    throw LoadError.of(
      "CONFIG_INVALID",
      problems.map((p) => ({ where: join(where, p.where), detail: p.detail })),
    );
  return value as T;
}

function join(where: string, path: string): string {
  if (path === "") return where;
  return path.startsWith("[") ? `${where}${path}` : `${where}.${path}`;
}

/** Keywords whose next schema-path segment is a name (`properties/x`) or an index (`allOf/0`). */
const NAMED = new Set(["properties", "patternProperties", "allOf", "anyOf", "oneOf", "$defs", "definitions"]);
/** Keywords that step one level into the value (a key or an index). */
const INTO_VALUE = new Set(["properties", "patternProperties", "additionalProperties", "items"]);

/** The place and the message of one ajv error, `errorMessage` applied (the deepest one on its way). */
function problemOf(root: JsonSchema, value: unknown, e: ErrorObject): Problem {
  const segments = e.instancePath === "" ? [] : e.instancePath.slice(1).split("/").map(unescapePointer);
  const steps = e.schemaPath.replace(/^#\/?/, "").split("/").map(unescapePointer);
  steps.pop(); // the failing keyword itself
  let node: JsonSchema | undefined = root;
  let depth = 0;
  let custom: { message: string; depth: number } | undefined;
  const consider = (own: boolean) => {
    const m = messageFor(node?.errorMessage, e.keyword, own);
    if (m !== undefined) custom = { message: m, depth };
  };
  consider(steps.length === 0);
  for (let i = 0; i < steps.length && node; i++) {
    const step = steps[i]!;
    const name = NAMED.has(step) ? steps[++i]! : undefined;
    const container: unknown = node[step];
    node = (name === undefined ? container : (container as Record<string, unknown>)?.[name]) as
      | JsonSchema
      | undefined;
    if (INTO_VALUE.has(step)) depth++;
    consider(i === steps.length - 1);
  }
  if (custom) {
    const at = segments.slice(0, custom.depth);
    const v = valueAt(value, at);
    return { where: pathOf(value, at), detail: custom.message.replaceAll("{value}", JSON.stringify(v)) };
  }
  return defaultProblem(value, segments, e, node);
}

/**
 * A string replaces the errors of its schema and of the schemas below (but not "unknown key"); an
 * object `{keyword: message}` only those of its own schema (`own`), not of nested objects.
 */
function messageFor(m: unknown, keyword: string, own: boolean): string | undefined {
  if (typeof m === "string") return keyword === "additionalProperties" ? undefined : m;
  if (own && m && typeof m === "object") return (m as Record<string, string>)[keyword];
  return undefined;
}

function defaultProblem(value: unknown, at: string[], e: ErrorObject, parent: JsonSchema | undefined) {
  const p = e.params as Record<string, unknown>;
  const where = pathOf(value, at);
  switch (e.keyword) {
    case "additionalProperties": {
      const key = String(p.additionalProperty);
      const known = Object.keys((parent?.properties as object | undefined) ?? {});
      return {
        where: pathOf(value, [...at, key]),
        detail: `unknown key; expected one of: ${known.join(", ")}`,
      };
    }
    case "required":
      return { where, detail: `missing key "${String(p.missingProperty)}"` };
    case "type":
      return { where, detail: got(`expected ${typeNames(String(p.type))}`, valueAt(value, at)) };
    case "enum":
      return { where, detail: got(`expected ${choices(p.allowedValues as unknown[])}`, valueAt(value, at)) };
    case "minLength":
      if (p.limit === 1) return { where, detail: got("expected a non-empty string", valueAt(value, at)) };
      return { where, detail: got(e.message ?? "too short", valueAt(value, at)) };
    case "const":
      return { where, detail: got(`expected ${JSON.stringify(p.allowedValue)}`, valueAt(value, at)) };
    default:
      return { where, detail: got(e.message ?? "invalid", valueAt(value, at)) };
  }
}

const TYPE_NAMES: Record<string, string> = {
  object: "a mapping (key: value)",
  array: "a list",
  string: "a string",
  number: "a number",
  integer: "a whole number",
  boolean: "true or false",
  null: "nothing",
};

function typeNames(types: string): string {
  return types
    .split(",")
    .map((t) => TYPE_NAMES[t] ?? t)
    .join(" or ");
}

function choices(values: unknown[]): string {
  const shown = values.map((v) => JSON.stringify(v));
  if (shown.length === 2) return `${shown[0]} or ${shown[1]}`;
  return `one of ${shown.join(", ")}`;
}

function got(message: string, v: unknown): string {
  return typeof v === "object" && v !== null ? message : `${message}, got ${JSON.stringify(v)}`;
}

/** JSON Pointer unescaping (RFC 6901): `~1` is "/", `~0` is "~". */
function unescapePointer(s: string): string {
  return s.replaceAll("~1", "/").replaceAll("~0", "~");
}

function valueAt(value: unknown, at: readonly string[]): unknown {
  let v = value;
  for (const s of at) v = (v as Record<string, unknown> | undefined)?.[s];
  return v;
}

/** ["http", "rules", "1", "get"] -> "http.rules[1].get" (indexes only where the value is a list). */
function pathOf(value: unknown, at: readonly string[]): string {
  let out = "";
  let v = value;
  for (const s of at) {
    out += Array.isArray(v) ? `[${s}]` : out === "" ? s : `.${s}`;
    v = (v as Record<string, unknown> | undefined)?.[s];
  }
  return out;
}

import { readdirSync } from "node:fs";
import { join } from "node:path";
import { type CompositionDecl, readCompositions } from "../compose/config.js";
import type { HttpRule } from "../routing/http-rule.js";
import { type AmqpBinding, readAmqpBindings } from "../upstream/amqp/config.js";
import { LoadError } from "./load-error.js";
import { readMethodSettings } from "./method-settings.js";
import type { MethodSettings } from "./options.js";
import { asObject, onlyKeys, stringMap } from "./validate.js";
import { readYamlFile } from "./yaml-file.js";

/**
 * Mapping files (`mappings/*.yaml`): HTTP rules in the shape of Google's service config
 * (`http: rules: [{selector, get, body, ...}]`), backends per service, and per-method settings.
 */
export interface Mappings {
  readonly rules: Map<string, HttpRule>;
  readonly backends: Record<string, string>;
  readonly methodSettings: Record<string, MethodSettings>;
  /** Methods sent to RabbitMQ instead of a gRPC backend. */
  readonly amqpBindings: AmqpBinding[];
  /** Composite routes (src/compose/config.ts), checked against the descriptors when routes compile. */
  readonly compositions: CompositionDecl[];
}

const RULE_KEYS = [
  "selector",
  "get",
  "put",
  "post",
  "delete",
  "patch",
  "custom",
  "body",
  "response_body",
  "additional_bindings",
];

export function loadMappings(dir: string): Mappings {
  const out: Mappings = {
    rules: new Map(),
    backends: {},
    methodSettings: {},
    amqpBindings: [],
    compositions: [],
  };
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
  } catch (err) {
    throw new LoadError("CONFIG_INVALID", dir, "mappings directory cannot be read", { cause: err });
  }
  for (const name of files) {
    const file = join(dir, name);
    readYamlFile(file, (doc) => readMappings(doc, file, out));
  }
  return out;
}

function readMappings(doc: unknown, file: string, out: Mappings): void {
  if (doc === null || doc === undefined) return;
  const o = asObject(doc, file);
  onlyKeys(o, ["http", "backends", "methods", "amqp", "compositions"], file);
  if (o.compositions !== undefined) out.compositions.push(...readCompositions(o.compositions, file));
  if (o.amqp !== undefined) {
    const amqp = asObject(o.amqp, `${file}: amqp`);
    onlyKeys(amqp, ["bindings"], `${file}: amqp`);
    out.amqpBindings.push(...readAmqpBindings(amqp.bindings ?? [], `${file}: amqp.bindings`));
  }
  if (o.http !== undefined) {
    const http = asObject(o.http, `${file}: http`);
    onlyKeys(http, ["rules"], `${file}: http`);
    const rules = http.rules ?? [];
    if (!Array.isArray(rules))
      throw new LoadError("CONFIG_INVALID", `${file}: http.rules`, "expected a list of rules");
    rules.forEach((r, i) => {
      const where = `${file}: http.rules[${i}]`;
      const rule = asObject(r, where);
      onlyKeys(rule, RULE_KEYS, where);
      for (const b of ([] as unknown[]).concat(rule.additional_bindings ?? []))
        onlyKeys(asObject(b, where), RULE_KEYS, `${where}.additional_bindings`);
      if (typeof rule.selector !== "string")
        throw new LoadError("CONFIG_INVALID", where, "a rule needs a selector (pkg.Service.Method)");
      if (out.rules.has(rule.selector))
        throw new LoadError("CONFIG_INVALID", where, `a second rule for ${rule.selector}`);
      out.rules.set(rule.selector, rule as HttpRule);
    });
  }
  if (o.backends !== undefined) Object.assign(out.backends, stringMap(o.backends, `${file}: backends`));
  if (o.methods !== undefined) {
    const methods = asObject(o.methods, `${file}: methods`);
    for (const [selector, v] of Object.entries(methods)) {
      out.methodSettings[selector] = readMethodSettings(v, `${file}: methods.${selector}`);
    }
  }
}

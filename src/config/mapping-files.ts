import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { HttpRule } from "../routing/http-rule.js";
import { type AmqpBinding, readAmqpBindings } from "../upstream/amqp/config.js";
import { LoadError } from "./load-error.js";
import { mappingSchema } from "./mapping-schema.js";
import { readMethodSettings } from "./method-settings.js";
import type { MethodSettings } from "./options.js";
import { checkShape } from "./schema-check.js";
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
}

export function loadMappings(dir: string): Mappings {
  const out: Mappings = { rules: new Map(), backends: {}, methodSettings: {}, amqpBindings: [] };
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

interface MappingEntry {
  http?: { rules?: HttpRule[] };
  backends?: Record<string, string>;
  methods?: Record<string, unknown>;
  amqp?: { bindings?: unknown[] };
}

/** One file: its shape checked against mappingSchema (every problem, each with its line), then merged. */
function readMappings(doc: unknown, file: string, out: Mappings): void {
  if (doc === null || doc === undefined) return;
  const o = checkShape<MappingEntry>(mappingSchema, doc, file);
  if (o.amqp?.bindings) out.amqpBindings.push(...readAmqpBindings(o.amqp.bindings, `${file}: amqp.bindings`));
  (o.http?.rules ?? []).forEach((rule, i) => {
    const selector = rule.selector!;
    if (out.rules.has(selector))
      throw new LoadError("CONFIG_INVALID", `${file}: http.rules[${i}]`, `a second rule for ${selector}`);
    out.rules.set(selector, rule);
  });
  if (o.backends !== undefined) Object.assign(out.backends, o.backends);
  for (const [selector, v] of Object.entries(o.methods ?? {})) {
    out.methodSettings[selector] = readMethodSettings(v, `${file}: methods.${selector}`);
  }
}

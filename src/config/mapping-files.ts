import { readdirSync } from "node:fs";
import { join } from "node:path";
import { type CompositionDecl, readCompositions } from "../compose/config.js";
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
  /**
   * Where each name a file refers to was written ("file: methods.pkg.S.M", "file: backends.pkg.S"), so
   * that a name matching nothing loaded is an error at its line.
   */
  readonly origins: Map<string, string>;
  /** Services and methods the files allow to be missing for now (`pending:`, e.g. found later by reflection). */
  readonly pending: Set<string>;
  /** Composite routes (src/compose/config.ts), checked against the descriptors when routes compile. */
  readonly compositions: CompositionDecl[];
}

export function loadMappings(dir: string): Mappings {
  const out: Mappings = {
    rules: new Map(),
    backends: {},
    methodSettings: {},
    amqpBindings: [],
    origins: new Map(),
    pending: new Set(),
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

interface MappingEntry {
  http?: { rules?: HttpRule[] };
  backends?: Record<string, string>;
  methods?: Record<string, unknown>;
  amqp?: { bindings?: unknown[] };
  pending?: string[];
  compositions?: unknown;
}

/** One file: its shape checked against mappingSchema (every problem, each with its line), then merged. */
function readMappings(doc: unknown, file: string, out: Mappings): void {
  if (doc === null || doc === undefined) return;
  const o = checkShape<MappingEntry>(mappingSchema, doc, file);
  if (o.compositions !== undefined) out.compositions.push(...readCompositions(o.compositions, file));
  if (o.amqp?.bindings) {
    const bindings = readAmqpBindings(o.amqp.bindings, `${file}: amqp.bindings`);
    bindings.forEach((b, i) => {
      out.origins.set(`binding ${b.selector}`, `${file}: amqp.bindings[${i}]`);
    });
    out.amqpBindings.push(...bindings);
  }
  (o.http?.rules ?? []).forEach((rule, i) => {
    const selector = rule.selector!;
    if (out.rules.has(selector))
      throw new LoadError("CONFIG_INVALID", `${file}: http.rules[${i}]`, `a second rule for ${selector}`);
    out.rules.set(selector, rule);
    out.origins.set(`rule ${selector}`, `${file}: http.rules[${i}]`);
  });
  if (o.backends !== undefined) Object.assign(out.backends, o.backends);
  for (const service of Object.keys(o.backends ?? {}))
    out.origins.set(`service ${service}`, `${file}: backends.${service}`);
  for (const [selector, v] of Object.entries(o.methods ?? {})) {
    out.methodSettings[selector] = readMethodSettings(v, `${file}: methods.${selector}`);
    out.origins.set(`method ${selector}`, `${file}: methods.${selector}`);
  }
  for (const name of o.pending ?? []) out.pending.add(name);
}

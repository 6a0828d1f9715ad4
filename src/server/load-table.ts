import { readFileSync } from "node:fs";
import type protobuf from "protobufjs";
import { LoadError } from "../config/load-error.js";
import { loadMappings, type Mappings } from "../config/mapping-files.js";
import { DEFAULTS, type GatewayOptions, mergeSettings } from "../config/options.js";
import { locate } from "../config/yaml-file.js";
import { requirementFromOption } from "../policies/auth/config.js";
import { addFileDescriptors, decodeDescriptorSet, type FileDesc } from "../registry/descriptors.js";
import { loadProtos, loadProtosReporting } from "../registry/load-protos.js";
import { ProtoRegistry } from "../registry/registry.js";
import { compileRoutes, type RouteTable } from "../routing/compile-routes.js";
import type { Route, RouteSettings } from "../routing/route.js";
import { type AmqpBinding, bindingFromOption } from "../upstream/amqp/config.js";
import { parseAddress } from "../upstream/grpc/address.js";
import type { MethodUpstream } from "../upstream/resolve.js";

/** Everything a request needs that comes from protos and config: swapped as a whole on reload. */
export interface LoadedConfig {
  readonly registry: ProtoRegistry;
  readonly table: RouteTable;
  /** Backend address by full service name; "" key is the default. */
  readonly backends: ReadonlyMap<string, string>;
  /** Methods bound to RabbitMQ, by full method name. */
  readonly amqp: ReadonlyMap<string, AmqpBinding>;
}

/**
 * Attaches a route's target and interceptor chain when the table is compiled; `where` says where the
 * route's method is sent. Without a binder (check, tests of the table) routes carry no target.
 */
export type RouteBinder = (route: Route, where: MethodUpstream, registry: ProtoRegistry) => Route;

/** Loads protos and mapping files and compiles the route table; throws LoadError at the first problem. */
export function loadConfig(
  options: GatewayOptions,
  reflected: readonly DescriptorSource[] = [],
  bind?: RouteBinder,
): LoadedConfig {
  return buildConfig(options, undefined, reflected, bind)!;
}

/** Descriptors obtained at run time (gRPC server reflection), with where they came from. */
export interface DescriptorSource {
  readonly where: string;
  readonly files: readonly FileDesc[];
  /** The backend that reflected them: the default backend of the services they define. */
  readonly backend?: string;
}

export interface CheckResult {
  /** Undefined when the protos or mapping files themselves do not load. */
  readonly config: LoadedConfig | undefined;
  readonly errors: readonly LoadError[];
}

/** Like loadConfig, but collects every problem it can find instead of stopping at the first. */
export function checkConfig(
  options: GatewayOptions,
  reflected: readonly DescriptorSource[] = [],
  bind?: RouteBinder,
): CheckResult {
  const errors: LoadError[] = [];
  const config = buildConfig(options, (err) => errors.push(err), reflected, bind);
  return { config, errors };
}

function buildConfig(
  options: GatewayOptions,
  report: ((err: LoadError) => void) | undefined,
  reflected: readonly DescriptorSource[],
  bind: RouteBinder | undefined,
): LoadedConfig | undefined {
  let problems = 0;
  const reported = report;
  if (reported) {
    report = (err) => {
      problems++;
      reported(err);
    };
  }
  const guard = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (err) {
      if (!report || !(err instanceof LoadError)) throw err;
      report(err);
      return undefined;
    }
  };
  const mappings = options.mappings ? guard(() => loadMappings(options.mappings!)) : undefined;
  const root = guard(() => loadRoot(options, reflected, report));
  if (!root || (options.mappings && !mappings)) return undefined;
  const registry = new ProtoRegistry(root);
  const base = mergeSettings(DEFAULTS.route, options.routeDefaults);
  const perMethod = { ...options.methodSettings, ...mappings?.methodSettings };
  const backends = new Map<string, string>();
  // Services found by reflection go to the backend that reflected them, unless configured otherwise.
  for (const source of reflected) {
    if (!source.backend) continue;
    for (const file of source.files) {
      for (const s of (file.service as Array<{ name: string }> | undefined) ?? []) {
        backends.set(file.package ? `${file.package}.${s.name}` : s.name, source.backend);
      }
    }
  }
  for (const [service, address] of Object.entries({ ...options.backends, ...mappings?.backends }))
    backends.set(service, address);
  if (options.defaultBackend) backends.set("", options.defaultBackend);
  // A proto that did not load leaves its services unknown: their names are not typos then.
  const unsure = problems > 0 || reflected.length > 0 || (options.reflect?.length ?? 0) > 0;
  for (const err of unknownNames(registry, mappings, unsure)) {
    if (report) report(err);
    else throw err;
  }
  for (const err of badAddresses(backends)) {
    if (report) report(err);
    else throw err;
  }
  const amqp = new Map<string, AmqpBinding>();
  // Proto options first; a mapping file's binding for the same method replaces it.
  const fromProtos: AmqpBinding[] = [];
  for (const m of registry.methods) {
    if (!m.amqpOption) continue;
    try {
      fromProtos.push(bindingFromOption(m.fullName, m.amqpOption));
    } catch (err) {
      if (report && err instanceof LoadError) report(err);
      else throw err;
    }
  }
  const fromMappings = new Set((mappings?.amqpBindings ?? []).map((b) => b.selector));
  for (const b of fromProtos) if (!fromMappings.has(b.selector)) amqp.set(b.selector, b);
  for (const b of mappings?.amqpBindings ?? []) {
    const method = registry.methods.find((m) => m.fullName === b.selector);
    const problem = !method
      ? "an AMQP binding names a method that no loaded proto declares"
      : method.clientStreaming || method.serverStreaming
        ? "streaming methods cannot be bound to AMQP"
        : amqp.has(b.selector)
          ? "a second AMQP binding for this method"
          : undefined;
    if (problem) {
      const err = new LoadError("RULE_INVALID", b.selector, problem);
      if (report) report(err);
      else throw err;
      continue;
    }
    amqp.set(b.selector, b);
  }
  const table = compileRoutes(registry, {
    rules: mappings?.rules,
    autoMapping: options.autoMapping ?? true,
    // A mapping file's settings win over the proto's own options.
    settingsFor: (m): RouteSettings =>
      mergeSettings(base, {
        ...(m.authOption ? { auth: requirementFromOption(m.authOption) } : {}),
        ...perMethod[m.fullName],
      }),
    report,
    compositions: mappings?.compositions,
    compositeSettings: base,
    ...(bind ? { bind: (route: Route) => bind(route, { backends, amqp }, registry) } : {}),
  });
  return { registry, table, backends, amqp };
}

/** .proto directories, then compiled descriptor sets, then reflected descriptors, into one Root. */
function loadRoot(
  options: GatewayOptions,
  reflected: readonly DescriptorSource[],
  report?: (err: LoadError) => void,
): protobuf.Root | undefined {
  // When reporting (check, reload), broken files are reported and the others still loaded and checked.
  const root = report ? loadProtosReporting(options.protos, report) : loadProtos(options.protos);
  if (!root) return undefined;
  for (const file of options.descriptorSets ?? []) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      throw new LoadError("PROTO_NOT_FOUND", file, "descriptor set cannot be read", { cause: err });
    }
    addFileDescriptors(root, decodeDescriptorSet(bytes, file), file);
  }
  for (const source of reflected) addFileDescriptors(root, source.files, source.where);
  try {
    root.resolveAll();
  } catch (err) {
    throw new LoadError("PROTO_RESOLVE", "descriptors", (err as Error).message, { cause: err });
  }
  return root;
}

/**
 * Names in mapping files that match nothing loaded: a typo in a `methods:` selector would otherwise
 * leave its settings (an auth requirement, a rate limit) silently unapplied. Names listed under
 * `pending:` are allowed to be missing; so is everything while reflection may still bring services.
 */
function unknownNames(registry: ProtoRegistry, mappings: Mappings | undefined, unsure: boolean): LoadError[] {
  if (!mappings) return [];
  const methods = new Set(registry.methods.map((m) => m.fullName));
  const services = new Set(registry.methods.map((m) => m.service));
  const out: LoadError[] = [];
  for (const [key, where] of mappings.origins) {
    const [kind, name] = key.split(" ") as ["method" | "rule" | "binding" | "service", string];
    const isService = kind === "service";
    const known = isService ? services.has(name) : methods.has(name);
    const pending =
      mappings.pending.has(name) ||
      (!isService && mappings.pending.has(name.slice(0, name.lastIndexOf("."))));
    if (known || (unsure && !pending)) continue;
    // reported here with its file:line (or allowed as pending): the rule and binding checks further on
    // do not see it again
    if (kind === "rule") mappings.rules.delete(name);
    if (kind === "binding") {
      const i = mappings.amqpBindings.findIndex((b) => b.selector === name);
      if (i >= 0) mappings.amqpBindings.splice(i, 1);
    }
    if (pending) continue;
    out.push(
      new LoadError(
        "SELECTOR_UNKNOWN",
        locate(where),
        `no loaded proto declares the ${isService ? "service" : "method"} ${name}: a typo? (list it under pending: if it is loaded later, e.g. by reflection)`,
      ),
    );
  }
  return out;
}

/** Every backend address parses (host:port with a port of 1-65535, tls://..., unix:...), checked at load. */
function badAddresses(backends: ReadonlyMap<string, string>): LoadError[] {
  const out: LoadError[] = [];
  for (const [service, address] of backends) {
    try {
      parseAddress(address);
    } catch (err) {
      out.push(
        new LoadError(
          "CONFIG_INVALID",
          service === "" ? "default backend" : `backend of ${service}`,
          (err as Error).message,
        ),
      );
    }
  }
  return out;
}

import { loadMappings } from "../config/mapping-files.js";
import { DEFAULTS, type GatewayOptions, mergeSettings } from "../config/options.js";
import { loadProtos } from "../registry/load-protos.js";
import { ProtoRegistry } from "../registry/registry.js";
import { compileRoutes, type RouteTable } from "../routing/compile-routes.js";
import type { RouteSettings } from "../routing/route.js";

/** Everything a request needs that comes from protos and config: swapped as a whole on reload. */
export interface LoadedConfig {
  readonly registry: ProtoRegistry;
  readonly table: RouteTable;
  /** Backend address by full service name; "" key is the default. */
  readonly backends: ReadonlyMap<string, string>;
}

/** Loads protos and mapping files and compiles the route table; throws LoadError on any problem. */
export function loadConfig(options: GatewayOptions): LoadedConfig {
  const mappings = options.mappings ? loadMappings(options.mappings) : undefined;
  const registry = new ProtoRegistry(loadProtos(options.protos));
  const base = mergeSettings(DEFAULTS.route, options.routeDefaults);
  const perMethod = { ...options.methodSettings, ...mappings?.methodSettings };
  const table = compileRoutes(registry, {
    rules: mappings?.rules,
    autoMapping: options.autoMapping ?? true,
    settingsFor: (m): RouteSettings => mergeSettings(base, perMethod[m.fullName]),
  });
  const backends = new Map<string, string>(Object.entries({ ...options.backends, ...mappings?.backends }));
  if (options.defaultBackend) backends.set("", options.defaultBackend);
  return { registry, table, backends };
}

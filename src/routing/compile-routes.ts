import type { FieldInfo, MessageInfo } from "../codec/index.js";
import { STRING_FORM_WKTS } from "../codec/message-info.js";
import type { CompositionDecl } from "../compose/config.js";
import { type CompositeRoute, compileComposition } from "../compose/route.js";
import { LoadError } from "../config/load-error.js";
import { withLine } from "../config/yaml-file.js";
import type { MethodDescriptor, ProtoRegistry } from "../registry/registry.js";
import { type Binding, bindingsOf, type HttpRule } from "./http-rule.js";
import type { BodyBinding, Route, RouteSettings } from "./route.js";
import { DuplicateRouteError, Router } from "./router.js";
import { type PathTemplate, parseTemplate, TemplateError } from "./template.js";

export interface CompileOptions {
  /** Rules from mapping files, keyed by selector; they replace the method's own annotation. */
  readonly rules?: ReadonlyMap<string, HttpRule>;
  /** Bind methods without a rule as `POST /pkg.Service/Method` with body "*". */
  readonly autoMapping?: boolean;
  readonly settingsFor: (method: MethodDescriptor) => RouteSettings;
  /**
   * Turns each compiled route into the object the router returns (the server attaches the route's
   * target and interceptor chain here, once per load); the route itself when absent.
   */
  readonly bind?: (route: Route) => Route;
  /** Composite routes from mapping files (src/compose/), with the settings they start from. */
  readonly compositions?: readonly CompositionDecl[];
  /** The route defaults composite routes start from; required with `compositions`. */
  readonly compositeSettings?: RouteSettings;
  /** Collect problems instead of throwing at the first (the bad binding is left out); for `check`. */
  readonly report?: (err: LoadError) => void;
}

export interface RouteTable {
  readonly router: Router<Route>;
  readonly routes: readonly Route[];
  /** Composite routes (also in the router, where the handler tells them by `target.shape`). */
  readonly composites: readonly CompositeRoute[];
  /** Things a user should know that do not stop loading (e.g. streaming methods left out). */
  readonly warnings: readonly string[];
}

export function compileRoutes(registry: ProtoRegistry, options: CompileOptions): RouteTable {
  const fail = (err: unknown): void => {
    if (options.report && err instanceof LoadError) options.report(err);
    else throw err;
  };
  const ctx: Context = {
    router: new Router<Route>((r) => r.origin),
    routes: [],
    warnings: [],
    options,
    registry,
    fail,
  };
  const known = new Set(registry.methods.map((m) => m.fullName));
  for (const selector of options.rules?.keys() ?? []) {
    if (!known.has(selector)) {
      fail(
        new LoadError(
          "RULE_INVALID",
          selector,
          "a mapping rule names a method that no loaded proto declares",
        ),
      );
    }
  }
  for (const method of registry.methods) {
    try {
      compileMethod(method, ctx);
    } catch (err) {
      fail(err);
    }
  }
  const composites: CompositeRoute[] = [];
  for (const decl of options.compositions ?? []) {
    try {
      const route = compileComposition(decl, registry, compositeDefaults(options), (m) =>
        partRoute(m, decl.httpMethod, ctx),
      );
      // The router holds composites beside proto routes (same grammar, conflicts found the same way).
      ctx.router.add(route.httpMethod, route.template, route as unknown as Route);
      composites.push(route);
    } catch (err) {
      fail(
        err instanceof DuplicateRouteError
          ? new LoadError("ROUTE_CONFLICT", withLine(decl.file, decl.where), err.message)
          : err,
      );
    }
  }
  return { router: ctx.router, routes: ctx.routes, composites, warnings: ctx.warnings };
}

function compositeDefaults(options: CompileOptions): RouteSettings {
  if (!options.compositeSettings) throw new Error("compileRoutes: compositions need compositeSettings");
  return options.compositeSettings;
}

/** A composition part's own route: its method as auto-mapped, bound to its target and interceptors. */
function partRoute(method: MethodDescriptor, httpMethod: string, ctx: Context): Route {
  const b: Binding = {
    httpMethod,
    path: `/${method.service}/${method.name}`,
    body: "*",
    responseBody: "",
    index: 0,
  };
  const where = `${method.fullName} (${method.file}) in a composition`;
  const route = compileBinding(method, b, ctx.options.settingsFor(method), where, ctx.registry.findMessage);
  return ctx.options.bind ? ctx.options.bind(route) : route;
}

interface Context {
  readonly router: Router<Route>;
  readonly routes: Route[];
  readonly warnings: string[];
  readonly options: CompileOptions;
  readonly registry: ProtoRegistry;
  readonly fail: (err: unknown) => void;
}

function compileMethod(method: MethodDescriptor, ctx: Context): void {
  const where = `${method.fullName} (${method.file})`;
  const rule = ctx.options.rules?.get(method.fullName) ?? method.httpRule;
  let bindings: Binding[] = [];
  if (rule) bindings = bindingsOf(rule, where);
  else if (ctx.options.autoMapping !== false) {
    bindings = [
      {
        httpMethod: "POST",
        path: `/${method.service}/${method.name}`,
        body: "*",
        responseBody: "",
        index: 0,
      },
    ];
  }
  const settings = ctx.options.settingsFor(method);
  for (const b of bindings) {
    const origin = b.index === 0 ? where : `${where} additional binding #${b.index}`;
    try {
      const compiled = compileBinding(method, b, settings, origin, ctx.registry.findMessage);
      const route = ctx.options.bind ? ctx.options.bind(compiled) : compiled;
      ctx.router.add(b.httpMethod, route.template, route);
      ctx.routes.push(route);
    } catch (err) {
      ctx.fail(
        err instanceof DuplicateRouteError ? new LoadError("ROUTE_CONFLICT", origin, err.message) : err,
      );
    }
  }
}

function compileBinding(
  method: MethodDescriptor,
  b: Binding,
  settings: RouteSettings,
  origin: string,
  resolve: (fullName: string) => MessageInfo | undefined,
): Route {
  let template: PathTemplate;
  try {
    template = parseTemplate(b.path);
  } catch (err) {
    if (err instanceof TemplateError) throw new LoadError("RULE_TEMPLATE", origin, err.message);
    throw err;
  }
  const pathFields = template.variables.map((v) => resolvePathField(method.input, v.fieldPath, origin));
  const body = resolveBody(method.input, b.body, origin);
  const boundPaths: string[][] = template.variables.map((v) => [...v.fieldPath]);
  if (body.kind === "field") boundPaths.push([body.field.name]);
  let responseBody: FieldInfo | undefined;
  if (b.responseBody) {
    responseBody = method.output.byName.get(b.responseBody);
    if (!responseBody || responseBody.name !== b.responseBody) {
      throw new LoadError(
        "RULE_FIELD",
        origin,
        `response_body "${b.responseBody}" is not a field of ${method.output.fullName}`,
      );
    }
  }
  const read = { ignoreUnknownFields: settings.json.ignoreUnknownFields, resolve };
  const write = { ...settings.json, resolve };
  return {
    httpMethod: b.httpMethod,
    template,
    method,
    body,
    responseBody,
    pathFields,
    boundPaths,
    settings,
    read,
    write,
    origin,
  };
}

function resolveBody(input: MessageInfo, body: string, origin: string): BodyBinding {
  if (body === "") return { kind: "none" };
  if (body === "*") return { kind: "all" };
  const field = input.byName.get(body);
  if (!field || field.name !== body) {
    throw new LoadError("RULE_FIELD", origin, `body "${body}" is not a top-level field of ${input.fullName}`);
  }
  return { kind: "field", field };
}

/** Path variables name fields by proto name; every step but the last is a singular message. */
function resolvePathField(input: MessageInfo, path: readonly string[], origin: string): FieldInfo[] {
  const chain: FieldInfo[] = [];
  let info = input;
  path.forEach((name, i) => {
    const f = info.byName.get(name);
    const dotted = path.join(".");
    if (!f || f.name !== name)
      throw new LoadError(
        "RULE_FIELD",
        origin,
        `path variable "${dotted}": ${info.fullName} has no field "${name}"`,
      );
    if (f.repeated)
      throw new LoadError("RULE_FIELD", origin, `path variable "${dotted}" names a repeated or map field`);
    chain.push(f);
    const last = i === path.length - 1;
    if (!last) {
      if (f.element.kind !== "message")
        throw new LoadError("RULE_FIELD", origin, `path variable "${dotted}": "${name}" is not a message`);
      info = f.element.message();
    } else if (f.element.kind === "message" && !STRING_FORM_WKTS.has(f.element.message().wkt ?? "")) {
      throw new LoadError(
        "RULE_FIELD",
        origin,
        `path variable "${dotted}" names a message field; it must name a scalar or enum`,
      );
    }
  });
  return chain;
}

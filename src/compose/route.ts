import { LoadError } from "../config/load-error.js";
import { mergeSettings } from "../config/options.js";
import { withLine } from "../config/yaml-file.js";
import { GatewayError } from "../errors/gateway-error.js";
import type { ProtoRegistry } from "../registry/registry.js";
import type { Route, RouteSettings } from "../routing/route.js";
import { type PathTemplate, parseTemplate, TemplateError } from "../routing/template.js";
import type { CompositeTarget } from "../upstream/target.js";
import { checkComposition, type PartRoute } from "./check.js";
import type { CompositionDecl } from "./config.js";
import { requestInputs } from "./inputs.js";
import type { Composition } from "./plan.js";
import { renderComposite } from "./render.js";
import { runComposition } from "./run.js";

/**
 * A composite route: what the router returns for a composition's HTTP method and path. It has what the
 * edge policies read of a route (method, template, settings, origin) but no proto method: the handler
 * sees `target.shape === "composite"` and hands the request to `target.serve`, so ordinary routes'
 * transcoding is untouched.
 */
export interface CompositeRoute
  extends Pick<Route, "httpMethod" | "template" | "settings" | "read" | "write" | "origin"> {
  readonly target: CompositeTarget;
  readonly composition: Composition;
}

/**
 * Compiles a declared composition: its template, the descriptor checks (check.ts), each call's own
 * route from `part`, and the target that runs it. `defaults` are the route defaults (auth, rate limit,
 * JSON options, timeout); the composition's own settings (COMPOSITE_SETTINGS, e.g. `auth`, `rateLimit`,
 * `timeout`) override them as a method's settings do, so the edge policies read them like any route's.
 * @throws LoadError RULE_TEMPLATE, COMPOSE_FIELD, COMPOSE_CYCLE, COMPOSE_OUTPUT.
 */
export function compileComposition(
  decl: CompositionDecl,
  registry: ProtoRegistry,
  defaults: RouteSettings,
  part: PartRoute,
): CompositeRoute {
  let template: PathTemplate;
  try {
    template = parseTemplate(decl.path);
  } catch (err) {
    if (err instanceof TemplateError)
      throw new LoadError(
        "RULE_TEMPLATE",
        withLine(decl.file, `${decl.where}.${decl.httpMethod.toLowerCase()}`),
        err.message,
      );
    throw err;
  }
  const composition = checkComposition(decl, template, registry, part);
  const settings = mergeSettings(defaults, decl.settings);
  const resolve = registry.findMessage;
  const read = { ignoreUnknownFields: settings.json.ignoreUnknownFields, resolve };
  const write = { ...settings.json, resolve };
  const target: CompositeTarget = {
    kind: "composite",
    protocol: "composite",
    upstream: composition.calls.map((c) => `${c.name}=${c.method.fullName}`).join(", "),
    shape: "composite",
    serve(request, done) {
      const inputs = requestInputs(template, request.segments, request.query, request.body);
      return runComposition(composition, { ...request, inputs, read }, (err, outcome) => {
        if (err) return done(err, undefined);
        let result: ReturnType<typeof renderComposite>;
        try {
          result = renderComposite(composition, outcome!, write);
        } catch (e) {
          return done(GatewayError.from(e), undefined);
        }
        done(undefined, result);
      });
    },
  };
  return {
    httpMethod: decl.httpMethod,
    template,
    settings,
    read,
    write,
    origin: `composition ${decl.httpMethod} ${decl.path} (${decl.file})`,
    target,
    composition,
  };
}

import { chooseNames, openApiPath, shapeOf } from "../openapi/paths.js";
import type { Schema, SchemaSet } from "../openapi/schemas.js";
import { claimsNote, securityOf } from "../openapi/security.js";
import type { Requirement } from "../policies/auth/config.js";
import type { CompositeRoute } from "./route.js";

/**
 * Adds composite routes to an OpenAPI document's `paths`: path parameters, a 200 response whose
 * schema has one property per output key (derived from the calls' output messages and fields), the
 * `errors` array and `Protogate-Partial` header of a partial answer, and the error response; bearer
 * security per the composite's own requirement (`auth:` on it), else `defaultAuth` (the gateway's
 * `auth.default`, set when JWT auth is configured), as for proto routes.
 */
export function addCompositePaths(
  paths: Record<string, Record<string, unknown>>,
  composites: readonly CompositeRoute[],
  schemas: SchemaSet,
  errorResponse: Schema,
  defaultAuth?: Requirement,
): void {
  for (const route of composites) {
    const method = route.httpMethod.toLowerCase();
    const shape = shapeOf(route.template);
    const names = chooseNames([shape]);
    const key = openApiPath(route.template, names);
    const item = (paths[key] ??= {});
    if (item[method]) continue; // a proto route of the same shape took it (the router would refuse an equal template)
    item[method] = operation(route, names, schemas, errorResponse, defaultAuth);
  }
}

function operation(
  route: CompositeRoute,
  names: readonly string[],
  schemas: SchemaSet,
  errorResponse: Schema,
  defaultAuth: Requirement | undefined,
): Schema {
  const { calls, output } = route.composition;
  const requirement = defaultAuth ? (route.settings.auth ?? defaultAuth) : undefined;
  const security = requirement && securityOf(requirement);
  const note = requirement && claimsNote(requirement);
  const properties: Record<string, Schema> = {};
  for (const { key, merge, parts } of output) {
    const each = parts.map(({ call, chain }) => {
      const c = calls[call]!;
      const last = chain[chain.length - 1];
      if (c.forEach) return { type: "array", items: schemas.ref(c.method.output) };
      return last ? schemas.field(last) : schemas.ref(c.method.output);
    });
    properties[key] =
      each.length === 1
        ? each[0]!
        : merge === "concat"
          ? { type: "array", items: { anyOf: each.map((s) => (s as { items: Schema }).items) } }
          : { allOf: each };
  }
  properties.errors = {
    type: "array",
    description: "Present only in a partial answer: the optional calls that failed.",
    items: {
      type: "object",
      properties: {
        call: { type: "string" },
        field: { type: "string", description: "The output key the call's result would have filled." },
        code: { type: "integer", description: "The gRPC status code." },
        message: { type: "string" },
        details: { type: "array", items: { type: "object" } },
      },
    },
  };
  return {
    operationId: `Composite_${route.httpMethod}_${route.template.source.replace(/[^A-Za-z0-9]+/g, "_")}`,
    tags: ["compositions"],
    summary: `Composes ${calls.map((c) => `${c.name} (${c.method.fullName})`).join(", ")}`,
    ...(note ? { description: note } : {}),
    parameters: route.template.variables.map((v, i) => ({
      name: names[i] ?? v.fieldPath.join("."),
      in: "path",
      required: true,
      schema: { type: "string" },
    })),
    responses: {
      "200": {
        description:
          "The composed answer. When an optional call fails, its part is left out, it is listed in `errors`, and Protogate-Partial is true.",
        headers: {
          "Protogate-Partial": {
            description: '"true" when the answer lacks the parts of failed optional calls.',
            schema: { type: "string", enum: ["true"] },
          },
        },
        content: { "application/json": { schema: { type: "object", properties } } },
      },
      default: errorResponse,
    },
    ...(security ? { security } : {}),
  };
}

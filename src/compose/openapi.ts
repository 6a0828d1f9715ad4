import { isDeepStrictEqual } from "node:util";
import { chooseNames, openApiPath, shapeOf } from "../openapi/paths.js";
import type { Schema, SchemaSet } from "../openapi/schemas.js";
import { claimsNote, securityOf } from "../openapi/security.js";
import type { Requirement } from "../policies/auth/config.js";
import type { PlannedCall } from "./plan.js";
import type { CompositeRoute } from "./route.js";

/**
 * Adds composite routes to an OpenAPI document's `paths`: path parameters, the JSON request body its
 * calls read (`body.*` sources, see bodySchema), a 200 response whose schema has one property per
 * output key (derived from the calls' output messages and fields), the `errors` array and
 * `Protogate-Partial` header of a partial answer, and the error response; bearer
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
  // The front end never reads the body of a GET, so such a composite's body sources are always absent.
  const body = route.httpMethod === "GET" ? undefined : bodySchema(calls, schemas);
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
    // Not required: an absent body leaves the fields it would fill unset, as an absent key does.
    ...(body ? { requestBody: { content: { "application/json": { schema: body } } } } : {}),
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

/**
 * The JSON body a composition reads, or undefined when no call reads one: an object with the key path
 * of every `body.*` source, each leaf the schema of the request field it fills. A leaf stays open ({})
 * where its type is not one field's: a forEach list (its elements fill fields through `item`), a key two
 * fields of different types read, a key read both as a scalar and as an object.
 */
function bodySchema(calls: readonly PlannedCall[], schemas: SchemaSet): Schema | undefined {
  // Keys are the client's JSON keys: maps without a prototype, so that "__proto__" or "constructor" is a key.
  const object = () => ({ type: "object", properties: Object.create(null) as Record<string, Schema> });
  const root = object();
  let found = false;
  const put = (path: readonly string[], leaf: Schema): void => {
    found = true;
    let props = root.properties;
    for (const k of path.slice(0, -1)) {
      const next = (props[k] ??= object());
      if (!next.properties) return void (props[k] = {});
      props = next.properties as Record<string, Schema>;
    }
    const k = path[path.length - 1]!;
    props[k] = k in props && !sameType(props[k]!, leaf) ? {} : (props[k] ?? leaf);
  };
  for (const c of calls) {
    if (c.forEach?.source.kind === "body") put(c.forEach.source.path, {});
    for (const { chain, source } of c.fields)
      if (source.kind === "body") put(source.path, schemas.field(chain[chain.length - 1]!));
  }
  return found ? root : undefined;
}

/** Whether two field schemas say the same type (their descriptions, the fields' comments, apart). */
function sameType(a: Schema, b: Schema): boolean {
  const { description: _a, ...typeA } = a as Record<string, unknown>;
  const { description: _b, ...typeB } = b as Record<string, unknown>;
  return isDeepStrictEqual(typeA, typeB);
}

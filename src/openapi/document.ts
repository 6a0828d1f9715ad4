import type { FieldInfo, MessageInfo } from "../codec/message-info.js";
import { STRING_FORM_WKTS } from "../codec/message-info.js";
import type { Route } from "../routing/route.js";
import type { LoadedConfig } from "../server/load-table.js";
import { type Schema, SchemaSet } from "./schemas.js";

/**
 * An OpenAPI 3.1 document for the routes in force: one operation per binding, path and query
 * parameters from the template and the unbound fields, request bodies per `body`, responses per
 * `response_body`, and google.rpc.Status for every error.
 */
const OPENAPI_METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);
const MAX_QUERY_DEPTH = 3;

export function buildOpenApi(
  config: LoadedConfig,
  info: { title: string; version: string },
): Record<string, unknown> {
  const schemas = new SchemaSet();
  const paths: Record<string, Record<string, unknown>> = {};
  const status = config.registry.findMessage("google.rpc.Status");
  const errorResponse = {
    description: "An error, as google.rpc.Status JSON; the HTTP status follows the gRPC code.",
    content: { "application/json": { schema: status ? schemas.ref(status) : { type: "object" } } },
  };
  const seen = new Map<string, number>();
  for (const route of config.table.routes) {
    const method = route.httpMethod.toLowerCase();
    if (!OPENAPI_METHODS.has(method)) continue; // custom HTTP methods have no place in OpenAPI
    const path = openApiPath(route);
    const base = `${route.method.service.split(".").pop()}_${route.method.name}`;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    const comment = route.method.comment?.trim();
    const summary = comment?.split("\n")[0]?.trim() || route.method.name;
    const operation: Record<string, unknown> = {
      operationId: n === 0 ? base : `${base}_${n}`,
      tags: [route.method.service],
      summary,
      ...(comment && comment !== summary ? { description: comment } : {}),
      parameters: [...pathParameters(route, schemas), ...queryParameters(route, schemas)],
      responses: {
        "200": {
          description: "OK",
          content: { [responseType(route)]: { schema: responseSchema(route, schemas) } },
        },
        default: errorResponse,
      },
    };
    const body = requestBody(route, schemas);
    if (body) operation.requestBody = body;
    paths[path] ??= {};
    paths[path][method] = operation;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: info.title,
      version: info.version,
      description: "REST API of gRPC services, served by protogate.",
    },
    paths,
    components: { schemas: schemas.schemas },
  };
}

/** `/v1/{name=shelves/*}:publish` -> `/v1/{name}:publish`; the pattern goes in the parameter's description. */
function openApiPath(route: Route): string {
  const t = route.template;
  const parts: string[] = [];
  let i = 0;
  while (i < t.segments.length) {
    const v = t.variables.find((x) => x.start === i);
    if (v) {
      parts.push(`{${v.fieldPath.join(".")}}`);
      i = v.end;
    } else {
      const s = t.segments[i]!;
      parts.push(s.kind === "literal" ? s.value : s.kind === "wildcard" ? "*" : "**");
      i++;
    }
  }
  return `/${parts.join("/")}${t.verb ? `:${t.verb}` : ""}`;
}

function pathParameters(route: Route, schemas: SchemaSet): Schema[] {
  return route.template.variables.map((v, i) => {
    const chain = route.pathFields[i]!;
    const leaf = chain[chain.length - 1]!;
    const pattern = route.template.segments
      .slice(v.start, v.end)
      .map((s) => (s.kind === "literal" ? s.value : s.kind === "wildcard" ? "*" : "**"))
      .join("/");
    const multi = pattern !== "*";
    return {
      name: v.fieldPath.join("."),
      in: "path",
      required: true,
      schema: schemas.element(leaf.element),
      ...(multi
        ? { description: `matches ${pattern} (slashes included)` }
        : leaf.comment
          ? { description: leaf.comment.trim() }
          : {}),
    };
  });
}

/** Fields neither the path nor the body binds, by dotted JSON name, down to a few levels. */
function queryParameters(route: Route, schemas: SchemaSet): Schema[] {
  if (route.body.kind === "all") return [];
  const bound = route.boundPaths.map((p) => p.join("."));
  const out: Schema[] = [];
  // Recursive messages are cut off by depth, as the query itself is: `inner.child.child.n` is valid.
  const walk = (info: MessageInfo, prefix: string[], jsonPrefix: string[], depth: number) => {
    for (const f of info.fields) {
      const path = [...prefix, f.name].join(".");
      if (bound.some((b) => b === path || path.startsWith(`${b}.`))) continue;
      if (f.mapKey) {
        // labels[env]=prod: OpenAPI's deepObject style, for maps of values a query string can carry
        if (f.element.kind !== "message" || STRING_FORM_WKTS.has(f.element.message().wkt ?? "")) {
          out.push({
            name: [...jsonPrefix, f.jsonName].join("."),
            in: "query",
            required: false,
            style: "deepObject",
            explode: true,
            schema: schemas.field(f),
          });
        }
        continue;
      }
      const jsonPath = [...jsonPrefix, f.jsonName];
      const e = f.element;
      if (e.kind === "message" && !STRING_FORM_WKTS.has(e.message().wkt ?? "")) {
        const inner = e.message();
        if (!f.repeated && !inner.wkt && depth < MAX_QUERY_DEPTH)
          walk(inner, [...prefix, f.name], jsonPath, depth + 1);
        continue;
      }
      out.push(queryParameter(f, jsonPath.join("."), schemas));
    }
  };
  walk(route.method.input, [], [], 0);
  return out;
}

function queryParameter(f: FieldInfo, name: string, schemas: SchemaSet): Schema {
  const schema = schemas.field(f);
  return {
    name,
    in: "query",
    required: false,
    schema,
    ...(f.repeated ? { style: "form", explode: true } : {}),
    ...(f.comment ? { description: f.comment.trim() } : {}),
  };
}

function requestBody(route: Route, schemas: SchemaSet): Schema | undefined {
  if (route.body.kind === "none") return undefined;
  const httpBody = (info: MessageInfo | undefined) => info?.fullName === "google.api.HttpBody";
  if (route.body.kind === "all") {
    if (httpBody(route.method.input)) return { required: true, content: { "*/*": { schema: {} } } };
    return { required: true, content: { "application/json": { schema: schemas.ref(route.method.input) } } };
  }
  const f = route.body.field;
  if (f.element.kind === "message" && httpBody(f.element.message()))
    return { required: true, content: { "*/*": { schema: {} } } };
  return { required: true, content: { "application/json": { schema: schemas.field(f) } } };
}

function responseType(route: Route): string {
  const f = route.responseBody;
  const info = f ? (f.element.kind === "message" ? f.element.message() : undefined) : route.method.output;
  return info?.fullName === "google.api.HttpBody" ? "*/*" : "application/json";
}

function responseSchema(route: Route, schemas: SchemaSet): Schema {
  if (responseType(route) !== "application/json") return {};
  return route.responseBody ? schemas.field(route.responseBody) : schemas.ref(route.method.output);
}

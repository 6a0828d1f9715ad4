import { addCompositePaths } from "../compose/openapi.js";
import type { Requirement } from "../policies/auth/config.js";
import type { Route } from "../routing/route.js";
import type { LoadedConfig } from "../server/load-table.js";
import { okResponse, requestBody } from "./bodies.js";
import { commandParts, OPERATIONS_PATH, operationsPathItem } from "./operations.js";
import { pathParameters, queryParameters } from "./parameters.js";
import { chooseNames, openApiPath, type Shape, shapeOf } from "./paths.js";
import { type Schema, SchemaSet } from "./schemas.js";
import { BEARER, BEARER_SCHEME, claimsNote, securityOf } from "./security.js";
import { routeAuth } from "./settings.js";
import { streamKind, streamRequestBody, streamResponse } from "./streams.js";

/** What the document needs besides the loaded config: the gateway's own settings. */
export interface DocumentOptions {
  readonly title: string;
  readonly version: string;
  /** The gateway's default requirement (`auth.default`), set when JWT auth is configured. */
  readonly auth?: Requirement | undefined;
  /** `GET /v1/operations/{id}` is served (AMQP is configured). */
  readonly operations?: boolean | undefined;
}

/**
 * An OpenAPI 3.1 document for the routes in force: one operation per binding, path items per path shape
 * (see paths.ts), query parameters for the unbound fields, request bodies per `body`, responses per
 * `response_body` (202 + Operation for AMQP commands), bearer security per the route's requirement, and
 * google.rpc.Status for every error.
 */
const OPENAPI_METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

interface Entry {
  readonly route: Route;
  readonly method: string;
  readonly shape: Shape;
  readonly operationId: string;
}

export function buildOpenApi(config: LoadedConfig, options: DocumentOptions): Record<string, unknown> {
  const schemas = new SchemaSet();
  const status = config.registry.findMessage("google.rpc.Status");
  const statusSchema = status ? schemas.ref(status) : { type: "object" };
  const errorResponse = {
    description: "An error, as google.rpc.Status JSON; the HTTP status follows the gRPC code.",
    content: { "application/json": { schema: statusSchema } },
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const group of groupByShape(config.table.routes).values()) {
    const names = chooseNames(group.map((e) => e.shape));
    const item: Record<string, Schema> = {};
    for (const e of group) {
      const taken = item[e.method];
      if (taken) {
        // `*` and `**` at the same place: OpenAPI has one path; the router tries `*` first.
        taken.description = [
          taken.description,
          `${e.route.origin} takes the URLs of this path with more segments here; OpenAPI cannot describe them.`,
        ]
          .filter(Boolean)
          .join("\n\n");
        continue;
      }
      item[e.method] = operation(e, names, config, options, schemas, statusSchema, errorResponse);
    }
    paths[openApiPath(group[0]!.route.template, names)] = item;
  }
  addCompositePaths(paths, config.table.composites, schemas, errorResponse, options.auth);
  if (options.operations)
    paths[OPERATIONS_PATH] = operationsPathItem(schemas, statusSchema, errorResponse, !!options.auth);
  return {
    openapi: "3.1.0",
    info: {
      title: options.title,
      version: options.version,
      description: "REST API of gRPC services, served by protogate.",
    },
    paths,
    components: {
      schemas: schemas.schemas,
      ...(options.auth ? { securitySchemes: { [BEARER]: BEARER_SCHEME } } : {}),
    },
  };
}

/**
 * Routes by path shape, each group with `*` before `**` (the router's priority), then in table order;
 * operationIds `Service_Method`, numbered from the second binding of a method on.
 */
function groupByShape(routes: readonly Route[]): Map<string, Entry[]> {
  const groups = new Map<string, Entry[]>();
  const seen = new Map<string, number>();
  for (const route of routes) {
    const method = route.httpMethod.toLowerCase();
    if (!OPENAPI_METHODS.has(method)) continue; // custom HTTP methods have no place in OpenAPI
    const base = `${route.method.service.split(".").pop()}_${route.method.name}`;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    const shape = shapeOf(route.template);
    const entry = { route, method, shape, operationId: n === 0 ? base : `${base}_${n}` };
    const group = groups.get(shape.key);
    if (group) group.push(entry);
    else groups.set(shape.key, [entry]);
  }
  const deep = (e: Entry) => e.shape.slots.filter((s) => s.deep).length;
  for (const group of groups.values()) group.sort((a, b) => deep(a) - deep(b));
  return groups;
}

function operation(
  e: Entry,
  names: readonly string[],
  config: LoadedConfig,
  options: DocumentOptions,
  schemas: SchemaSet,
  statusSchema: Schema,
  errorResponse: Schema,
): Schema {
  const { route } = e;
  const mode = config.amqp.get(route.method.fullName)?.mode;
  const command = mode === "command" ? commandParts(route, schemas, statusSchema) : undefined;
  const comment = route.method.comment?.trim();
  const summary = comment?.split("\n")[0]?.trim() || route.method.name;
  const requirement = options.auth ? (routeAuth(route) ?? options.auth) : undefined;
  const security = requirement && securityOf(requirement);
  const description = [comment !== summary ? comment : undefined, requirement && claimsNote(requirement)]
    .filter(Boolean)
    .join("\n\n");
  const op: Schema = {
    operationId: e.operationId,
    tags: [route.method.service],
    summary,
    ...(description ? { description } : {}),
    parameters: [
      ...pathParameters(route, e.shape, names, schemas),
      ...queryParameters(route, schemas),
      ...(command ? [command.parameter] : []),
    ],
    responses: {
      ...(command
        ? { "202": command.response }
        : route.method.serverStreaming
          ? { "200": streamResponse(route, schemas, statusSchema) }
          : { "200": okResponse(route, schemas, mode === "rpc") }),
      default: errorResponse,
    },
    ...(security ? { security } : {}),
  };
  const body = route.method.clientStreaming ? streamRequestBody(route, schemas) : requestBody(route, schemas);
  if (body) op.requestBody = body;
  const kind = streamKind(route);
  if (kind) op["x-protogate-stream"] = kind;
  return op;
}

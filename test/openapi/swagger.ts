/**
 * Requests built the way Swagger UI's "Try it out" builds them (swagger-client): example values put into
 * the path template, each parameter percent-encoded on its own (every character outside
 * [A-Za-z0-9-._~], so "/" becomes %2F), an empty JSON object or array as the body, and a bearer token when the operation
 * has a security requirement.
 */

export interface Parameter {
  name: string;
  in: string;
  description?: string;
  schema: Record<string, unknown>;
}
export interface Operation {
  operationId: string;
  parameters: Parameter[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, { schema: unknown }>; headers?: unknown }>;
  security?: Array<Record<string, string[]>>;
  description?: string;
}
export type Paths = Record<string, Record<string, Operation>>;

export interface SwaggerRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** Field path (proto names, dotted) -> the value the method should receive, per the descriptions. */
  expected: Record<string, string>;
}

/** swagger-client's encodeCharacters: everything but unreserved characters, as UTF-8 percent-escapes. */
export function encodeParameter(value: string): string {
  return Array.from(value, (c) =>
    /^[A-Za-z0-9\-._~]$/.test(c)
      ? c
      : Array.from(Buffer.from(c, "utf8"), (b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join(
          "",
        ),
  ).join("");
}

const JOINED = /^Sets `([^`]+)` = `([^`]+)`/;
const RENAMED = /^Sets `([^`]+)`\./;

/**
 * An example value a user would type: integers "7"; a parameter that is a whole one-segment field
 * "a/b é" (a slash, a space and a non-ASCII letter, all decoded by the router); a piece of a
 * multi-segment field or a `**` "é x" (multi-segment values keep an encoded "/" encoded).
 */
function example(p: Parameter): string {
  if (p.schema.type === "integer") return "7";
  const piece = JOINED.test(p.description ?? "") || (p.description ?? "").includes("One or more segments");
  return piece ? "é x" : "a/b é";
}

export async function swaggerRequest(
  base: string,
  path: string,
  method: string,
  op: Operation,
  bearer?: (scopes: string[]) => Promise<string>,
): Promise<SwaggerRequest> {
  const values = new Map<string, string>();
  const expected: Record<string, string> = {};
  let url = path;
  for (const p of op.parameters.filter((x) => x.in === "path")) {
    const value = example(p);
    values.set(p.name, value);
    url = url.replace(`{${p.name}}`, encodeParameter(value));
  }
  for (const p of op.parameters.filter((x) => x.in === "path")) {
    const d = p.description ?? "";
    const joined = JOINED.exec(d);
    if (joined) {
      expected[joined[1]!] = joined[2]!.replace(/\{([^}]+)\}/g, (_, n: string) => values.get(n)!);
    } else if (!d.startsWith("Any one segment")) {
      expected[RENAMED.exec(d)?.[1] ?? p.name] = values.get(p.name)!;
    }
  }
  const headers: Record<string, string> = {};
  let body: string | undefined;
  const json = op.requestBody?.content["application/json"] as { schema: { type?: string } } | undefined;
  if (json) {
    headers["content-type"] = "application/json";
    body = json.schema.type === "array" ? "[]" : "{}";
  }
  const requirement = op.security?.find((r) => Object.keys(r).length > 0);
  if (requirement && bearer) headers.authorization = `Bearer ${await bearer(Object.values(requirement)[0]!)}`;
  return { method: method.toUpperCase(), url: base + url, headers, body, expected };
}

/** A dotted field path's value in a request as @grpc/proto-loader decodes it (keepCase), as a string. */
export function fieldValue(request: Record<string, unknown>, path: string): string | undefined {
  let v: unknown = request;
  for (const part of path.split(".")) v = (v as Record<string, unknown> | undefined)?.[part];
  return v === undefined || v === null ? undefined : String(v);
}

/**
 * What the OpenAPI schema validator does not check (OAS 3.1 "Path Templating", "Parameter Object"):
 * templated paths equal but for their parameter names, and path parameters that do not match the
 * template's names one for one.
 */
export function templateProblems(paths: Paths): string[] {
  const problems: string[] = [];
  const shapes = new Map<string, string>();
  for (const [path, item] of Object.entries(paths)) {
    const shape = path.replace(/\{[^}]*\}/g, "{}");
    const other = shapes.get(shape);
    if (other) problems.push(`${other} and ${path} are the same path`);
    shapes.set(shape, path);
    const names = [...path.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]).sort();
    for (const [method, op] of Object.entries(item)) {
      const declared = op.parameters
        .filter((p) => p.in === "path")
        .map((p) => p.name)
        .sort();
      if (declared.join() !== names.join())
        problems.push(`${method} ${path} declares path parameters ${declared.join(", ")}`);
    }
  }
  return problems;
}

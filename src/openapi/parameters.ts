import type { FieldInfo, MessageInfo } from "../codec/message-info.js";
import { STRING_FORM_WKTS } from "../codec/message-info.js";
import type { Route } from "../routing/route.js";
import { type Shape, variableTemplate } from "./paths.js";
import type { Schema, SchemaSet } from "./schemas.js";

/** Path and query parameters of one operation, as the router and the transcoder bind them. */
const MAX_QUERY_DEPTH = 3;

const DEEP_NOTE =
  "One or more segments: send `/` unencoded (a `%2F` stays encoded in the field, google/api/http.proto).";

/**
 * One parameter per `*`/`**` of the template, named as the path item's `names`; the description says
 * which field this operation sets from it, since operations sharing a path item may bind different fields.
 */
export function pathParameters(route: Route, shape: Shape, names: readonly string[], schemas: SchemaSet) {
  return shape.slots.map((slot, k): Schema => {
    const name = names[k]!;
    const v = slot.variable;
    const base = { name, in: "path", required: true };
    if (!v)
      return {
        ...base,
        description: "Any one segment; the method does not see it.",
        schema: { type: "string" },
      };
    const field = v.fieldPath.join(".");
    const chain = route.pathFields[route.template.variables.indexOf(v)]!;
    const leaf = chain[chain.length - 1]!;
    const lines: string[] = [];
    if (slot.whole) {
      if (name !== field) lines.push(`Sets \`${field}\`.`);
      if (leaf.comment) lines.push(leaf.comment.trim());
    } else {
      lines.push(`Sets \`${field}\` = \`${variableTemplate(route, v, names)}\` (segments joined by "/").`);
    }
    if (slot.deep) lines.push(DEEP_NOTE);
    const schema = slot.whole && !slot.deep ? schemas.element(leaf.element) : { type: "string" };
    return { ...base, ...(lines.length > 0 ? { description: lines.join(" ") } : {}), schema };
  });
}

/** Fields neither the path nor the body binds, by dotted JSON name, down to a few levels. */
export function queryParameters(route: Route, schemas: SchemaSet): Schema[] {
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

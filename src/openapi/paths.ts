import type { Route } from "../routing/route.js";
import type { PathTemplate, Variable } from "../routing/template.js";

/**
 * OpenAPI path templates for google.api.http templates. OpenAPI has one parameter per path segment and
 * clients percent-encode a parameter's `/` (Swagger UI sends `%2F`), while the router splits on raw `/`
 * and keeps `%2F` encoded in multi-segment variables (google/api/http.proto). So every `*` and `**` of
 * a template becomes its own path parameter and literals stay literal:
 * `/v1/{name=projects/*\/items/*}` -> `/v1/projects/{project}/items/{item}`. Templates that differ only
 * in variable names or boundaries share a shape (the key) and so one OpenAPI path item; OpenAPI allows one
 * parameter name per position (OAS 3.1 "Path Templating"), chosen by `chooseNames`.
 */

/** One `*` or `**` segment of a template: one OpenAPI path parameter. */
export interface Slot {
  /** Index in template.segments. */
  readonly segment: number;
  /** `**`: one or more segments (values with `/` must be sent unencoded). */
  readonly deep: boolean;
  /** The variable the segment belongs to; undefined for a bare `*` that binds no field. */
  readonly variable: Variable | undefined;
  /** The variable is this segment alone: the parameter is the field's value itself. */
  readonly whole: boolean;
  /** The name this route alone would give the parameter. */
  readonly candidate: string;
}

/** A route's path shape: key (`/v1/projects/{}/items/{}:verb`) and its parameters in order. */
export interface Shape {
  readonly key: string;
  readonly slots: readonly Slot[];
}

export function shapeOf(template: PathTemplate): Shape {
  const slots: Slot[] = [];
  const parts = template.segments.map((s, i) => {
    if (s.kind === "literal") return s.value;
    const variable = template.variables.find((v) => v.start <= i && i < v.end);
    const whole = variable !== undefined && variable.end - variable.start === 1;
    slots.push({ segment: i, deep: s.kind === "deep", variable, whole, candidate: candidate(template, i) });
    return "{}";
  });
  return { key: render(parts, template.verb), slots };
}

/**
 * One name per position for routes of one shape: the name most of them would choose (ties: the first in
 * alphabetical order), so the choice does not depend on the order rules are declared in; a name taken by
 * an earlier position gets a `_2`, `_3` suffix.
 */
export function chooseNames(shapes: readonly Shape[]): string[] {
  const count = shapes[0]?.slots.length ?? 0;
  const taken = new Set<string>();
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const votes = new Map<string, number>();
    for (const s of shapes) {
      const c = s.slots[i]!.candidate;
      votes.set(c, (votes.get(c) ?? 0) + 1);
    }
    const [best] = [...votes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))[0]!;
    let name = best;
    for (let n = 2; taken.has(name); n++) name = `${best}_${n}`;
    taken.add(name);
    names.push(name);
  }
  return names;
}

/** The OpenAPI path of a template with the chosen parameter names. */
export function openApiPath(template: PathTemplate, names: readonly string[]): string {
  let k = 0;
  const parts = template.segments.map((s) => (s.kind === "literal" ? s.value : `{${names[k++]}}`));
  return render(parts, template.verb);
}

/**
 * How a multi-segment variable is built from the parameters: `shelves/{shelf}/books/{book}`.
 * Undefined for a variable that is one parameter as it is.
 */
export function variableTemplate(route: Route, v: Variable, names: readonly string[]): string | undefined {
  const { slots } = shapeOf(route.template);
  if (v.end - v.start === 1 && route.template.segments[v.start]!.kind !== "literal") return undefined;
  return route.template.segments
    .slice(v.start, v.end)
    .map((s, j) => {
      if (s.kind === "literal") return s.value;
      const k = slots.findIndex((slot) => slot.segment === v.start + j);
      return `{${names[k]}}`;
    })
    .join("/");
}

function render(parts: readonly string[], verb: string): string {
  return `/${parts.join("/")}${verb ? `:${verb}` : ""}`;
}

/**
 * The name a route gives segment i: the field path for a variable of one segment; `segment{i}` for a bare
 * `*`; else the singular of the literal before it in the variable (`projects/*` -> `project`, AIP-122
 * resource names); else the field path with the slot's index in its variable.
 */
function candidate(template: PathTemplate, i: number): string {
  const v = template.variables.find((x) => x.start <= i && i < x.end);
  if (v && v.end - v.start === 1) return v.fieldPath.join(".");
  if (!v) return `segment${i}`;
  const before = i > v.start ? template.segments[i - 1] : undefined;
  if (before?.kind === "literal" && /^[A-Za-z][A-Za-z0-9_.-]*$/.test(before.value))
    return singular(before.value);
  const index = template.segments.slice(v.start, i).filter((s) => s.kind !== "literal").length;
  return index === 0 ? v.fieldPath.join(".") : `${v.fieldPath.join(".")}_${index + 1}`;
}

/** English plural to singular for collection ids: `books`, `policies`, `shelves`, `addresses`. */
export function singular(word: string): string {
  if (/ies$/.test(word) && word.length > 3) return `${word.slice(0, -3)}y`;
  if (/lves$/.test(word)) return `${word.slice(0, -3)}f`;
  if (/(ss|x|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (/[^s]s$/.test(word)) return word.slice(0, -1);
  return word;
}

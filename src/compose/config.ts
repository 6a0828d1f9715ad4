import { parseDurationMs } from "../config/duration.js";
import { LoadError } from "../config/load-error.js";
import { readMethodSettings } from "../config/method-settings.js";
import type { MethodSettings } from "../config/options.js";
import { asObject, type Obj, onlyKeys, optBool, optParsed, optString } from "../config/validate.js";

/**
 * A composite route as declared under `compositions:` in a mapping file, read but not yet checked
 * against the descriptors (check.ts does that once the protos are loaded). `where` strings are
 * "file: compositions[i]..." so that errors found later still point at a line (yaml-file.ts).
 */
export interface CompositionDecl {
  readonly file: string;
  /** "file: compositions[i]" */
  readonly where: string;
  /** Upper-case HTTP method: GET, POST, PUT, DELETE or PATCH. */
  readonly httpMethod: string;
  /** The path template (google.api.http grammar). */
  readonly path: string;
  /**
   * The route's own settings (COMPOSITE_SETTINGS: timeout, auth, rate limit, ...), read by the reader of
   * per-method settings; what is not set comes from the route defaults. `timeoutMs` is the overall deadline.
   */
  readonly settings: MethodSettings;
  readonly calls: readonly CallDecl[];
  readonly output: readonly OutputDecl[];
}

/** One named call of a composition. */
export interface CallDecl {
  readonly where: string;
  readonly name: string;
  /** The gRPC method's full name ("pkg.Service.Method"), also for methods bound to AMQP rpc. */
  readonly method: string;
  /** Request field path (proto names, dotted) -> source expression (see sources.ts). */
  readonly request: ReadonlyArray<{ readonly field: string; readonly source: string }>;
  /** A failing required call fails the whole answer; an optional one is listed in `errors`. Default true. */
  readonly required: boolean;
  /** This call's own deadline, ms (the overall time left caps it). */
  readonly timeoutMs: number | undefined;
  /** A source naming a repeated value: one call per element, the element is `item`. */
  readonly forEach: string | undefined;
  /** Most elements forEach takes (more is a 400 INVALID_ARGUMENT). Default 100. */
  readonly maxItems: number;
  /** Most calls of a forEach in flight at once. Default 8. */
  readonly concurrency: number;
}

/** How output entries at one key combine: "concat" lists, or "object" merges messages' fields. */
export type MergeRule = "concat" | "object";

/** One output entry: a call's result (`from: call`) or one of its fields (`from: call.a.b`) at `key`. */
export interface OutputDecl {
  readonly where: string;
  readonly key: string;
  readonly from: string;
  readonly merge: MergeRule | undefined;
}

/**
 * The per-method settings (src/config/method-schema.ts) a composite route takes, under the same keys:
 * those of the route as a whole. Per-call behaviour (retry, circuit breaker, fault, cache, idempotent)
 * stays with each call's method (`methods:`), since every call runs through its method's own chain;
 * `stream` and `unknownQueryParameters` do not apply (a composite is unary and reads the query by name).
 */
export const COMPOSITE_SETTINGS = [
  "timeout",
  "maxTimeout",
  "json",
  "auth",
  "rateLimit",
  "corsOrigins",
] as const;

const COMPOSITION_KEYS = ["get", "post", "put", "delete", "patch", "calls", "output", ...COMPOSITE_SETTINGS];
const CALL_KEYS = ["name", "method", "request", "required", "timeout", "forEach", "maxItems", "concurrency"];
const OUTPUT_KEYS = ["key", "from", "merge"];
const HTTP_METHODS = ["get", "post", "put", "delete", "patch"];
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Default cap on forEach elements and on forEach calls in flight. */
export const DEFAULT_MAX_ITEMS = 100;
export const DEFAULT_CONCURRENCY = 8;

const positiveInt = (v: unknown): number | undefined =>
  Number.isInteger(v) && (v as number) > 0 ? (v as number) : undefined;

/**
 * Reads the `compositions:` list of one mapping file.
 * @throws LoadError CONFIG_INVALID at the first malformed key, with its place in the file.
 */
export function readCompositions(v: unknown, file: string): CompositionDecl[] {
  if (!Array.isArray(v))
    throw new LoadError("CONFIG_INVALID", `${file}: compositions`, "expected a list of compositions");
  return v.map((c, i) => readComposition(c, file, `${file}: compositions[${i}]`));
}

function readComposition(v: unknown, file: string, where: string): CompositionDecl {
  const o = asObject(v, where);
  onlyKeys(o, COMPOSITION_KEYS, where);
  const verbs = HTTP_METHODS.filter((m) => o[m] !== undefined);
  if (verbs.length !== 1)
    throw new LoadError(
      "CONFIG_INVALID",
      where,
      "a composition needs exactly one of get, post, put, delete, patch",
    );
  const verb = verbs[0]!;
  const path = optString(o, verb, where)!;
  if (!Array.isArray(o.calls) || o.calls.length === 0)
    throw new LoadError("CONFIG_INVALID", `${where}.calls`, "expected a non-empty list of calls");
  if (!Array.isArray(o.output) || o.output.length === 0)
    throw new LoadError("CONFIG_INVALID", `${where}.output`, "expected a non-empty list of output entries");
  const calls = o.calls.map((c, i) => readCall(c, `${where}.calls[${i}]`));
  const seen = new Set<string>();
  calls.forEach((c) => {
    if (seen.has(c.name))
      throw new LoadError("CONFIG_INVALID", `${c.where}.name`, `a second call named "${c.name}"`);
    seen.add(c.name);
  });
  return {
    file,
    where,
    httpMethod: verb.toUpperCase(),
    path,
    settings: readMethodSettings(
      Object.fromEntries(COMPOSITE_SETTINGS.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])),
      where,
    ),
    calls,
    output: o.output.map((e, i) => readOutput(e, `${where}.output[${i}]`)),
  };
}

function readCall(v: unknown, where: string): CallDecl {
  const o = asObject(v, where);
  onlyKeys(o, CALL_KEYS, where);
  const name = optString(o, "name", where);
  if (!name || !NAME.test(name) || name === "path" || name === "query" || name === "body" || name === "item")
    throw new LoadError(
      "CONFIG_INVALID",
      `${where}.name`,
      "a call needs a name (letters, digits, _), not path, query, body or item",
    );
  const method = optString(o, "method", where);
  if (!method)
    throw new LoadError("CONFIG_INVALID", `${where}.method`, "a call needs a method (pkg.Service.Method)");
  const request: Array<{ field: string; source: string }> = [];
  if (o.request !== undefined) {
    const r: Obj = asObject(o.request, `${where}.request`);
    for (const field of Object.keys(r))
      request.push({ field, source: optString(r, field, `${where}.request`)! });
  }
  return {
    where,
    name,
    method,
    request,
    required: optBool(o, "required", where) ?? true,
    timeoutMs: optParsed(o, "timeout", where, parseDurationMs, 'a duration ("2s", "500ms")'),
    forEach: optString(o, "forEach", where),
    maxItems: optParsed(o, "maxItems", where, positiveInt, "a positive integer") ?? DEFAULT_MAX_ITEMS,
    concurrency: optParsed(o, "concurrency", where, positiveInt, "a positive integer") ?? DEFAULT_CONCURRENCY,
  };
}

function readOutput(v: unknown, where: string): OutputDecl {
  const o = asObject(v, where);
  onlyKeys(o, OUTPUT_KEYS, where);
  const key = optString(o, "key", where);
  const from = optString(o, "from", where);
  if (!key || !from) throw new LoadError("CONFIG_INVALID", where, "an output entry needs key and from");
  const merge = optString(o, "merge", where);
  if (merge !== undefined && merge !== "concat" && merge !== "object")
    throw new LoadError("CONFIG_INVALID", `${where}.merge`, 'expected "concat" or "object"');
  return { where, key, from, merge };
}

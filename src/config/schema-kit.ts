/**
 * Builders for the JSON Schema (draft-07) fragments that describe the config file and the mapping files.
 * Every fragment lives with its owner (`src/policies/auth/schema.ts`, ...) and is assembled in
 * `config/schema.ts` and `config/mapping-schema.ts`. Objects are closed (`additionalProperties: false`)
 * so that a typo is an error, and every property has a description (editors show it).
 *
 * `errorMessage` (the keyword of ajv-errors, read by `schema-check.ts`) replaces the messages of errors in
 * the schema that carries it and below: a string for every failing keyword but `additionalProperties`,
 * or `{ required: "..." }` per keyword. `{value}` in it is the offending value as JSON.
 */
export type JsonSchema = { [key: string]: unknown };

/** Durations as parseDurationMs reads them: "250ms", "5s", "1.5m", "1h", "0", or a number of ms. */
export const DURATION_PATTERN = "^(0|[0-9]+(\\.[0-9]+)?(ms|s|m|h))$";
/** The same, without zero. */
export const POSITIVE_DURATION_PATTERN = "^(?![0.]+(ms|s|m|h)?$)[0-9]+(\\.[0-9]+)?(ms|s|m|h)$";
/** Sizes as parseSizeBytes reads them: "100b", "512kb", "1mb", "2gb" (any case), or a number of bytes. */
export const SIZE_PATTERN = "^[0-9]+([bB]|[kKmMgG][bB])$";

type Extra = { default?: unknown; errorMessage?: string | Record<string, string> };

/** A duration; `positive` refuses zero (a period, a TTL). */
export function duration(description: string, extra: Extra & { positive?: boolean } = {}): JsonSchema {
  const { positive, ...rest } = extra;
  return {
    description,
    type: ["string", "number"],
    pattern: positive ? POSITIVE_DURATION_PATTERN : DURATION_PATTERN,
    ...(positive ? { exclusiveMinimum: 0 } : { minimum: 0 }),
    errorMessage: `expected a duration such as "5s", "250ms" or "1m"${positive ? "" : " (0 for none)"}`,
    ...rest,
  };
}

/** A size in bytes ("1mb" or a whole number). */
export function size(description: string, extra: Extra = {}): JsonSchema {
  return {
    description,
    type: ["string", "integer"],
    pattern: SIZE_PATTERN,
    minimum: 1,
    errorMessage: 'expected a size such as "1mb", "16kb" or a number of bytes',
    ...extra,
  };
}

/** A non-empty string. */
export function text(description: string, extra: Extra & JsonSchema = {}): JsonSchema {
  return { description, type: "string", minLength: 1, ...extra };
}

/** true or false, with its default. */
export function bool(description: string, dflt?: boolean): JsonSchema {
  return { description, type: "boolean", ...(dflt === undefined ? {} : { default: dflt }) };
}

/** One of a few strings. */
export function oneOf(description: string, values: readonly string[], dflt?: string): JsonSchema {
  return { description, type: "string", enum: [...values], ...(dflt === undefined ? {} : { default: dflt }) };
}

/**
 * `if`/`then`/`else`: the value is checked against `then` when it fits `test`, else against `otherwise`.
 * Used instead of anyOf so that errors come from the one branch that applies.
 */
export function ifThenElse(test: JsonSchema, then: JsonSchema, otherwise: JsonSchema): JsonSchema {
  return { if: test, then, else: otherwise };
}

/** An item, or a list of them (readers accept both: `protos: protos` and `protos: [a, b]`). */
export function oneOrMany(description: string, item: JsonSchema, extra: Extra = {}): JsonSchema {
  return { description, ...ifThenElse({ type: "array" }, { type: "array", items: item }, item), ...extra };
}

/** A closed mapping: only the keys listed. Adding a key is one line in `properties`. */
export function object(
  description: string,
  properties: Record<string, JsonSchema>,
  extra: Extra & { required?: string[] } & JsonSchema = {},
): JsonSchema {
  return { description, type: "object", additionalProperties: false, properties, ...extra };
}

/** A mapping of free keys (service names, broker names, claims) to values of one schema. */
export function mapOf(description: string, value: JsonSchema, extra: JsonSchema = {}): JsonSchema {
  return { description, type: "object", additionalProperties: value, ...extra };
}

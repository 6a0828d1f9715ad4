// Hand checks for config sections that are read outside the JSON Schema (composite routes, the
// balancing and cache sections): each still names the key it refuses, as the schema's errors do.
import { LoadError } from "./load-error.js";

/** Small strict readers for config objects: unknown keys and wrong types are load errors that say where. */

export type Obj = Record<string, unknown>;

export function asObject(v: unknown, where: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new LoadError("CONFIG_INVALID", where, "expected a mapping (key: value)");
  return v as Obj;
}

export function onlyKeys(o: Obj, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k))
      throw new LoadError(
        "CONFIG_INVALID",
        `${where}.${k}`,
        `unknown key; expected one of: ${allowed.join(", ")}`,
      );
  }
}

export function optString(o: Obj, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v === "")
    throw new LoadError("CONFIG_INVALID", `${where}.${key}`, "expected a non-empty string");
  return v;
}

export function optBool(o: Obj, key: string, where: string): boolean | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== "boolean")
    throw new LoadError("CONFIG_INVALID", `${where}.${key}`, "expected true or false");
  return v;
}

export function optParsed<T>(
  o: Obj,
  key: string,
  where: string,
  parse: (v: unknown) => T | undefined,
  expected: string,
): T | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  const parsed = parse(v);
  if (parsed === undefined)
    throw new LoadError(
      "CONFIG_INVALID",
      `${where}.${key}`,
      `expected ${expected}, got ${JSON.stringify(v)}`,
    );
  return parsed;
}

export function stringMap(v: unknown, where: string): Record<string, string> {
  const o = asObject(v, where);
  const out: Record<string, string> = {};
  for (const k of Object.keys(o)) {
    const s = optString(o, k, where);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

/** A TCP port (0 picks a free one), or undefined. */

/** A TCP port (0 picks a free one), or undefined. The --port and --admin-port flags use it. */
export const portNumber = (v: unknown): number | undefined =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) < 65536 ? (v as number) : undefined;

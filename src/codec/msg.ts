/**
 * The codec's in-memory message: a plain object keyed by proto field name. A key that is present is
 * a set field. Values: number (32-bit ints, floats, enums), bigint (64-bit ints), boolean, string,
 * Uint8Array (bytes), Msg (messages), arrays (repeated) and Map (map fields, keys typed by key kind).
 */
export type MapKey = string | number | bigint | boolean;
export type FieldValue = number | bigint | boolean | string | Uint8Array | Msg | FieldValue[] | MsgMap;
export type MsgMap = Map<MapKey, FieldValue>;
export interface Msg {
  [field: string]: FieldValue;
}

/** The JSON mapping rejected a value; `path` names the field, e.g. "book.tags[2]". */
export class JsonMappingError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(path ? `invalid value for field "${path}": ${reason}` : reason);
    this.name = "JsonMappingError";
  }
}

/**
 * o[key] = value for keys that come from data (map keys, Struct fields): a plain assignment to
 * "__proto__" would set the object's prototype instead, and the entry would vanish from the JSON.
 */
export function putEntry(o: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__")
    Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

export const fieldPath = (parent: string, name: string): string => (parent ? `${parent}.${name}` : name);

/**
 * The path of a value for error messages, built only when an error is thrown: `path.key`, then `[i]`
 * for an array item or `["k"]` for a map value.
 */
export function at(path: string, key?: string, index?: number | string): string {
  let p = key === undefined ? path : fieldPath(path, key);
  if (typeof index === "number") p += `[${index}]`;
  else if (index !== undefined) p += `["${index}"]`;
  return p;
}

/** Bytes that are not a valid encoding of the message type (a backend's answer, an Any's value). */
export class WireFormatError extends Error {}

import { PercentDecodeError } from "../routing/decode.js";

/**
 * A query string (without "?") as name -> values, in the order names first appear. The form encoding
 * of URLs: pairs split on "&", name and value on the first "=", "+" is a space. Percent-encoding must be
 * well-formed and decode to valid UTF-8 (`%`, `%zz`, `%FF%FE`, overlong `%C0%AF` and encoded surrogates
 * throw PercentDecodeError, a 400), as in the path: node:querystring would pass them on as U+FFFD or as
 * the literal text. Empty names (`?=x`, `?&`) are skipped.
 */
export function parseQueryString(raw: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let start = 0;
  while (start <= raw.length) {
    let end = raw.indexOf("&", start);
    if (end === -1) end = raw.length;
    if (end > start) {
      const eq = raw.indexOf("=", start);
      const hasValue = eq !== -1 && eq < end;
      const name = decodeComponent(raw.slice(start, hasValue ? eq : end));
      const value = hasValue ? decodeComponent(raw.slice(eq + 1, end)) : "";
      if (name !== "") {
        const values = out.get(name);
        if (values) values.push(value);
        else out.set(name, [value]);
      }
    }
    start = end + 1;
  }
  return out;
}

function decodeComponent(s: string): string {
  const spaced = s.includes("+") ? s.replaceAll("+", " ") : s;
  if (!spaced.includes("%")) return spaced;
  try {
    // Native and strict: a malformed escape or bytes that are not UTF-8 throw URIError.
    return decodeURIComponent(spaced);
  } catch {
    throw new PercentDecodeError(`malformed or non-UTF-8 percent-encoding in the query: "${s}"`);
  }
}

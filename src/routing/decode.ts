/**
 * Percent-decoding of path variables, as Envoy and Google's ESP do by default
 * ("ALL_CHARACTERS_EXCEPT_RESERVED" for multi-segment variables):
 * - a single-segment variable is fully decoded (`%2F` -> `/`);
 * - a multi-segment variable keeps RFC 6570 reserved characters encoded (`%2F` stays `%2F`),
 *   so the value can still be split on "/" unambiguously.
 * `+` in a path is a literal plus, never a space.
 */

export class PercentDecodeError extends Error {}

// RFC 6570 reserved: gen-delims and sub-delims.
const RESERVED = new Set(Array.from(":/?#[]@!$&'()*+,;=", (c) => c.charCodeAt(0)));
const utf8 = new TextDecoder("utf-8", { fatal: true });

export function decodeSegment(raw: string): string {
  if (!raw.includes("%")) return raw;
  return decode(raw, false);
}

export function decodeMultiSegment(raw: string): string {
  if (!raw.includes("%")) return raw;
  return decode(raw, true);
}

function decode(raw: string, keepReserved: boolean): string {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25 /* % */) {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex))
        throw new PercentDecodeError(`malformed percent-encoding in "${raw}"`);
      const b = Number.parseInt(hex, 16);
      if (keepReserved && RESERVED.has(b)) {
        bytes.push(0x25, hex.charCodeAt(0), hex.charCodeAt(1));
      } else {
        bytes.push(b);
      }
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      for (const b of Buffer.from(raw[i]!, "utf8")) bytes.push(b);
    }
  }
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    throw new PercentDecodeError(`percent-encoding of "${raw}" is not valid UTF-8`);
  }
}

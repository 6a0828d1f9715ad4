import { isUtf8 } from "node:buffer";
import { JsonMappingError } from "./msg.js";

/**
 * JSON text -> JSON value, with the checks JSON.parse leaves out and the proto3 JSON mapping requires
 * (protobuf-go and the conformance suite reject these inputs):
 * - the bytes are well-formed UTF-8 (no `\xff`, overlong `\xc0\xaf`, truncated or surrogate sequences);
 * - no string or key holds a lone surrogate written as an escape (`"\udca0"`), which is not Unicode;
 * - no object names a key twice (JSON.parse keeps the last one silently).
 * Throws JsonTextError for the text as a whole, JsonMappingError with the JSON path of a lone surrogate.
 */
export function parseJsonText(input: Uint8Array | string): unknown {
  let text: string;
  if (typeof input === "string") text = input;
  else {
    // toString() without arguments is UTF-8 straight away; naming the encoding costs a lookup per call
    text = (
      Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength)
    ).toString();
    // The decoder puts U+FFFD for each ill-formed sequence (WHATWG's UTF-8 decode, which V8's is), so a
    // text without one came from well-formed UTF-8: only one that has a U+FFFD (sent or put there) needs
    // the native check of the bytes. A one-byte string is not even searched.
    if (text.indexOf(REPLACEMENT) !== -1 && !isUtf8(input)) throw new JsonTextError("is not valid UTF-8");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new JsonTextError(`is not valid JSON: ${(err as Error).message}`);
  }
  if (scanKeys(text)) assertWellFormed(json);
  return json;
}

declare global {
  interface String {
    /** ES2024 (Node 20): no lone surrogate. The project's lib is ES2022. */
    isWellFormed(): boolean;
  }
}

/** The JSON text as a whole is unusable; `problem` completes a sentence ("the body <problem>"). */
export class JsonTextError extends JsonMappingError {
  constructor(readonly problem: string) {
    super("", `JSON text ${problem}`);
    this.name = "JsonTextError";
  }
}

const REPLACEMENT = "\uFFFD";

const OBJECT = 1;
const ARRAY = 2;
/** Above this many keys an object's keys go into a Set; below, a linear search is cheaper. */
const SMALL_OBJECT = 16;

/** scanKeysFast's answer when the text needs the general scan (a key with an escape, a large object). */
const GENERAL = -1;

// The fast scan's stacks, reused across calls (the scan is synchronous and never re-entered).
const fastKinds: number[] = [];
/** Per open object, where its keys begin in `spans`. */
const fastBase: number[] = [];
/**
 * Start and end offsets (exclusive, without quotes) of the keys of the open objects, pair by pair, up
 * to the scan's `top`: the array is never shortened (setting `length` calls into V8's runtime and drops
 * the backing store, which the next push then grows again: both per request).
 */
const spans: number[] = [];

/**
 * Scans text that JSON.parse accepted for duplicate keys (throws) and returns whether some string
 * contains a surrogate escape (`\uD800`-`\uDFFF`), so that only then are the parsed strings checked
 * for lone ones. Iterative: any nesting JSON.parse took is fine here. Most bodies take the fast scan,
 * which compares keys in place (no string per key); a key with an escape or an object of many keys
 * takes the general one.
 */
function scanKeys(text: string): boolean {
  const fast = scanKeysFast(text);
  return fast === GENERAL ? scanKeysGeneral(text) : fast === 1;
}

/** 0 or 1: no duplicate, and whether a surrogate escape was seen; GENERAL: use scanKeysGeneral. */
function scanKeysFast(text: string): number {
  let depth = -1;
  let expectKey = false;
  let surrogates = 0;
  let top = 0; // spans in use
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const open = i + 1;
      const scanned = scanString(text, i);
      i = closingQuote(scanned);
      if (scanned & SURROGATE) surrogates = 1;
      if (expectKey) {
        if (scanned & ESCAPED) return GENERAL; // "\u0061" and "a" are one key: decoded comparison needed
        const base = fastBase[depth]!;
        if (top - base >= 2 * SMALL_OBJECT) return GENERAL;
        const len = i - open;
        for (let k = base; k < top; k += 2) {
          const s = spans[k]!;
          if (spans[k + 1]! - s === len && sameChars(text, s, open, len))
            throw duplicate(text.slice(open, i));
        }
        spans[top++] = open;
        spans[top++] = i;
        expectKey = false;
      }
    } else if (c === 0x7b /* { */) {
      depth++;
      fastKinds[depth] = OBJECT;
      fastBase[depth] = top;
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      depth++;
      fastKinds[depth] = ARRAY;
    } else if (c === 0x7d /* } */) {
      top = fastBase[depth]!; // the object's keys are done with
      depth--;
    } else if (c === 0x5d /* ] */) {
      depth--;
    } else if (c === 0x2c /* , */) {
      expectKey = fastKinds[depth] === OBJECT;
    }
  }
  return surrogates;
}

/** scanString's flags: the string has an escape; one of its escapes is a surrogate (`\uD800`-`\uDFFF`). */
const ESCAPED = 1;
const SURROGATE = 2;

/**
 * Scans the string whose opening quote is at `quote` (in text JSON.parse accepted, so it ends): the
 * index of its closing quote times 4, plus ESCAPED and SURROGATE when they apply. One number, so that
 * the scans' inner loop allocates nothing.
 */
function scanString(text: string, quote: number): number {
  let flags = 0;
  for (let i = quote + 1; ; i++) {
    const d = text.charCodeAt(i);
    if (d === 0x22 /* " */) return i * 4 + flags;
    if (d === 0x5c /* \ */) {
      flags |= ESCAPED;
      if (text.charCodeAt(i + 1) === 0x75 /* u */ && isSurrogateEscape(text, i + 2)) flags |= SURROGATE;
      i++; // the escaped character
    }
  }
}

/** The closing quote's index in what scanString returned. */
const closingQuote = (scanned: number): number => (scanned - (scanned & 3)) / 4;

/** `len` characters of `text` at `a` and at `b` are the same. */
function sameChars(text: string, a: number, b: number, len: number): boolean {
  for (let j = 0; j < len; j++) if (text.charCodeAt(a + j) !== text.charCodeAt(b + j)) return false;
  return true;
}

/** The general scan: keys decoded (escapes) and, in large objects, kept in a Set. */
function scanKeysGeneral(text: string): boolean {
  const kinds: number[] = [];
  const keys: string[][] = [];
  const sets: Array<Set<string> | undefined> = [];
  let depth = -1;
  let expectKey = false;
  let surrogates = false;
  const n = text.length;
  // One pass of charCodeAt: String#indexOf with a start position measured far slower here on long bodies.
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const open = i;
      const scanned = scanString(text, i);
      const close = closingQuote(scanned);
      i = close;
      if (scanned & SURROGATE) surrogates = true;
      if (expectKey) {
        const key =
          scanned & ESCAPED
            ? (JSON.parse(text.slice(open, close + 1)) as string)
            : text.slice(open + 1, close);
        addKey(keys[depth]!, sets, depth, key);
        expectKey = false;
      }
    } else if (c === 0x7b /* { */) {
      depth++;
      kinds[depth] = OBJECT;
      if (keys[depth] === undefined) keys[depth] = [];
      else keys[depth]!.length = 0;
      sets[depth] = undefined;
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      depth++;
      kinds[depth] = ARRAY;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    } else if (c === 0x2c /* , */) {
      expectKey = kinds[depth] === OBJECT;
    }
  }
  return surrogates;
}

function addKey(list: string[], sets: Array<Set<string> | undefined>, depth: number, key: string): void {
  const set = sets[depth];
  if (set !== undefined) {
    if (set.has(key)) throw duplicate(key);
    set.add(key);
    return;
  }
  for (let j = 0; j < list.length; j++) if (list[j] === key) throw duplicate(key);
  list.push(key);
  if (list.length > SMALL_OBJECT) sets[depth] = new Set(list);
}

const duplicate = (key: string) => new JsonTextError(`has the key "${key}" twice in one object`);

/** `\uXXXX` at `at` (the four hex digits) names a code unit in D800-DFFF. */
function isSurrogateEscape(text: string, at: number): boolean {
  const d = text.charCodeAt(at) | 0x20; // lower-case
  const x = text.charCodeAt(at + 1) | 0x20;
  return d === 0x64 /* d */ && ((x >= 0x38 && x <= 0x39) || (x >= 0x61 && x <= 0x66)); // 8-9, a-f
}

/**
 * Every string and key of a parsed JSON value is well-formed UTF-16 (no lone surrogate). An explicit
 * stack, not recursion: the value may nest as deep as JSON.parse allowed.
 */
function assertWellFormed(root: unknown): void {
  const stack: Array<[unknown, string]> = [[root, ""]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [v, path] = top;
    if (typeof v === "string") {
      if (!v.isWellFormed()) throw notUnicode(path);
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push([v[i], `${path}[${i}]`]);
    } else if (typeof v === "object" && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        const p = path ? `${path}.${k}` : k;
        if (!k.isWellFormed()) throw notUnicode(p);
        stack.push([x, p]);
      }
    }
  }
}

const notUnicode = (path: string) =>
  new JsonMappingError(path, "not valid Unicode (a lone surrogate escape such as \\udca0)");

/**
 * The HPACK encoder of one connection. Fields the caller marks as repeating (path, authority,
 * content-type...) go into the dynamic table once and are sent as a one- or two-byte index afterwards,
 * which spares the server decoding (and allocating) them on every call. Everything else is a literal
 * without indexing; secrets are "never indexed" (RFC 7541 7.1.3). Strings are sent raw, not Huffman:
 * the server reads raw bytes faster and loopback bandwidth is not the cost here.
 *
 * A run of fields that is the same on every call to a method (method, path, authority...) is encoded
 * once more only when the table changed in between: `replay` copies the bytes it produced last time.
 */

import { STATIC_COUNT, STATIC_TABLE } from "./hpack.js";

/** Static-table index of each name (its first entry), for literals with an indexed name. */
const STATIC_NAMES = new Map<string, number>();
for (let i = STATIC_COUNT; i >= 1; i--) STATIC_NAMES.set(STATIC_TABLE[i]![0], i);

const NEVER_INDEXED = new Set(["authorization", "cookie", "proxy-authorization"]);
/** Runs kept per connection; past this the cache starts over. */
const MAX_RUNS = 512;

interface Run {
  readonly bytes: Buffer;
  readonly inserted: number;
}

interface Entry {
  readonly name: string;
  readonly value: string;
  readonly size: number;
}

export class HpackEncoder {
  /** name -> value -> absolute insertion number of its newest copy (no key strings built per call). */
  private readonly byName = new Map<string, Map<string, number>>();
  /** name -> absolute insertion number of the newest entry with that name, whatever its value. */
  private readonly newestByName = new Map<string, number>();
  private readonly entries: Entry[] = [];
  private first = 0; // index in `entries` of the oldest live entry
  private inserted = 0;
  private size = 0;
  private pendingSizeUpdate = -1;

  private buf = Buffer.allocUnsafe(512);
  private at = 0;

  /** Encoded runs by the caller's key and variant, each valid while `inserted` is what it was. */
  private runs = new Map<string, Map<string, Run>>();
  private runCount = 0;
  private runKey = "";
  private runVariant = "";
  private runStart = 0;
  private runInserted = 0;

  constructor(private maxSize = 4096) {}

  /** The server's SETTINGS_HEADER_TABLE_SIZE; we never use more than the 4096 we start with. */
  setMaxSize(peerMax: number): void {
    const size = Math.min(peerMax, 4096);
    if (size === this.maxSize) return;
    this.maxSize = size;
    this.evict(0);
    this.pendingSizeUpdate = size;
    this.runs.clear(); // the table shrank without an insertion: no run can be trusted
    this.runCount = 0;
  }

  /** Starts a header block. */
  begin(): this {
    this.at = 0;
    if (this.pendingSizeUpdate >= 0) {
      this.int(0x20, 5, this.pendingSizeUpdate);
      this.pendingSizeUpdate = -1;
    }
    return this;
  }

  /** A field from the static table, by index (e.g. 3 = ":method: POST"). */
  staticField(index: number): this {
    this.int(0x80, 7, index);
    return this;
  }

  /** A field that repeats from call to call: indexed when in the table, else added to it. */
  repeated(name: string, value: string): this {
    const abs = this.byName.get(name)?.get(value);
    if (abs !== undefined) {
      this.int(0x80, 7, STATIC_COUNT + this.inserted - abs);
      return this;
    }
    return this.insert(name, value);
  }

  /**
   * A field that changes from call to call (or a secret): a literal the server does not keep. With
   * `keepName` (a name that is no secret and comes on every call, like x-request-id), the first one
   * goes into the table so that later ones refer to the name by index instead of spelling it out.
   */
  literal(name: string, value: string, keepName = false): this {
    if (NEVER_INDEXED.has(name)) {
      this.nameRef(0x10, 4, name);
    } else if (keepName && !STATIC_NAMES.has(name) && this.liveName(name) === undefined) {
      return this.insert(name, value);
    } else {
      this.nameRef(0x00, 4, name);
    }
    this.string(value);
    return this;
  }

  /**
   * Appends the bytes encoded for `key` last time, if they still mean the same (no entry was added
   * or evicted since) and returns true; else returns false, and the fields the caller encodes next,
   * up to `endRun()`, become the run kept for `key`.
   */
  replay(key: string, variant = ""): boolean {
    // Two keys, not one joined string: no string is built (and hashed) per call.
    const run = this.runs.get(key)?.get(variant);
    if (run !== undefined && run.inserted === this.inserted) {
      this.reserve(run.bytes.length);
      run.bytes.copy(this.buf, this.at);
      this.at += run.bytes.length;
      return true;
    }
    this.runKey = key;
    this.runVariant = variant;
    this.runStart = this.at;
    this.runInserted = this.inserted;
    return false;
  }

  /** Ends the run `replay` started. A run that added entries is not kept: replaying it would add them twice. */
  endRun(): this {
    if (this.runKey === "" || this.inserted !== this.runInserted) {
      this.runKey = "";
      return this;
    }
    if (this.runCount >= MAX_RUNS) {
      this.runs.clear(); // keys come from routes and deadlines, but stay bounded
      this.runCount = 0;
    }
    let variants = this.runs.get(this.runKey);
    if (!variants) this.runs.set(this.runKey, (variants = new Map()));
    if (!variants.has(this.runVariant)) this.runCount++;
    const bytes = Buffer.from(this.buf.subarray(this.runStart, this.at));
    variants.set(this.runVariant, { bytes, inserted: this.inserted });
    this.runKey = "";
    return this;
  }

  /** The block so far, not copied: valid until the next `begin`. */
  block(): Buffer {
    return this.buf.subarray(0, this.at);
  }

  /** Literal with incremental indexing: the server adds the field to its table, and so do we. */
  private insert(name: string, value: string): this {
    const size = name.length + value.length + 32;
    if (size > this.maxSize) return this.literal(name, value);
    this.nameRef(0x40, 6, name);
    this.string(value);
    this.evict(size);
    let byValue = this.byName.get(name);
    if (!byValue) {
      byValue = new Map();
      this.byName.set(name, byValue);
    }
    this.entries.push({ name, value, size });
    this.newestByName.set(name, this.inserted);
    byValue.set(value, this.inserted++);
    this.size += size;
    return this;
  }

  /** The index of a live table entry with this name (any value), if there is one. */
  private liveName(name: string): number | undefined {
    const abs = this.newestByName.get(name);
    if (abs === undefined || abs < this.inserted - (this.entries.length - this.first)) return undefined;
    return STATIC_COUNT + this.inserted - abs;
  }

  private nameRef(flags: number, prefix: number, name: string): void {
    const index = STATIC_NAMES.get(name) ?? this.liveName(name);
    if (index !== undefined) {
      this.int(flags, prefix, index);
    } else {
      this.int(flags, prefix, 0);
      this.string(name);
    }
  }

  private evict(incoming: number): void {
    while (this.size + incoming > this.maxSize && this.first < this.entries.length) {
      const old = this.entries[this.first]!;
      const abs = this.inserted - (this.entries.length - this.first);
      const byValue = this.byName.get(old.name)!;
      if (byValue.get(old.value) === abs) byValue.delete(old.value);
      this.size -= old.size;
      this.first++;
    }
    if (this.first > 256 && this.first * 2 > this.entries.length) {
      this.entries.splice(0, this.first);
      this.first = 0;
    }
  }

  private string(value: string): void {
    // Header values reaching here are printable ASCII (or base64): one byte per char.
    this.int(0, 7, value.length);
    this.reserve(value.length);
    this.at += this.buf.write(value, this.at, "latin1");
  }

  private int(flags: number, prefix: number, value: number): void {
    this.reserve(6);
    const max = (1 << prefix) - 1;
    if (value < max) {
      this.buf[this.at++] = flags | value;
      return;
    }
    this.buf[this.at++] = flags | max;
    let rest = value - max;
    while (rest >= 0x80) {
      this.buf[this.at++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.buf[this.at++] = rest;
  }

  private reserve(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
}

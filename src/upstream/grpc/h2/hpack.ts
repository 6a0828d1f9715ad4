import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from "./huffman-table.js";

/**
 * HPACK (RFC 7541) decoding for a gRPC client: complete (static + dynamic table, Huffman), since the
 * server's encoder chooses freely. The encoder is in hpack-encoder.ts.
 */

export class HpackError extends Error {}

/** A block decoded whole (the table is in step) but over the size limit: only its stream fails. */
export class HeaderListTooLarge extends Error {}

/** A decoded header field; values are latin1 strings, one char per octet. */
export type HeaderField = [name: string, value: string];

export const STATIC_TABLE: readonly HeaderField[] = [
  ["", ""], // index 0 is unused
  [":authority", ""],
  [":method", "GET"],
  [":method", "POST"],
  [":path", "/"],
  [":path", "/index.html"],
  [":scheme", "http"],
  [":scheme", "https"],
  [":status", "200"],
  [":status", "204"],
  [":status", "206"],
  [":status", "304"],
  [":status", "400"],
  [":status", "404"],
  [":status", "500"],
  ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"],
  ["accept-language", ""],
  ["accept-ranges", ""],
  ["accept", ""],
  ["access-control-allow-origin", ""],
  ["age", ""],
  ["allow", ""],
  ["authorization", ""],
  ["cache-control", ""],
  ["content-disposition", ""],
  ["content-encoding", ""],
  ["content-language", ""],
  ["content-length", ""],
  ["content-location", ""],
  ["content-range", ""],
  ["content-type", ""],
  ["cookie", ""],
  ["date", ""],
  ["etag", ""],
  ["expect", ""],
  ["expires", ""],
  ["from", ""],
  ["host", ""],
  ["if-match", ""],
  ["if-modified-since", ""],
  ["if-none-match", ""],
  ["if-range", ""],
  ["if-unmodified-since", ""],
  ["last-modified", ""],
  ["link", ""],
  ["location", ""],
  ["max-forwards", ""],
  ["proxy-authenticate", ""],
  ["proxy-authorization", ""],
  ["range", ""],
  ["referer", ""],
  ["refresh", ""],
  ["retry-after", ""],
  ["server", ""],
  ["set-cookie", ""],
  ["strict-transport-security", ""],
  ["transfer-encoding", ""],
  ["user-agent", ""],
  ["vary", ""],
  ["via", ""],
  ["www-authenticate", ""],
];
export const STATIC_COUNT = STATIC_TABLE.length - 1;

// ---- Huffman decoding: a tree of 256-way nodes, one input byte per step (as Go's hpack does). ----

/** node[i] = 0: no code; > 0: child node index + 1; < 0: leaf, -(symbol << 8 | bits used in this byte) - 1. */
const NODES: Int32Array[] = [new Int32Array(256)];
for (let sym = 0; sym < 256; sym++) {
  const code = HUFFMAN_CODES[sym]!;
  let len = HUFFMAN_LENGTHS[sym]!;
  let node = NODES[0]!;
  while (len > 8) {
    len -= 8;
    const i = (code >>> len) & 0xff;
    if (node[i] === 0) {
      NODES.push(new Int32Array(256));
      node[i] = NODES.length;
    }
    node = NODES[node[i]! - 1]!;
  }
  const shift = 8 - len;
  const start = (code << shift) & 0xff;
  for (let j = start; j < start + (1 << shift); j++) node[j] = -((sym << 8) | len) - 1;
}

export function huffmanDecode(src: Uint8Array, start: number, end: number): string {
  const root = NODES[0]!;
  let node = root;
  let cur = 0; // pending bits, right-aligned
  let bits = 0; // how many bits of `cur` are pending
  let sinceSymbol = 0; // bits read since the last whole symbol: padding must stay under 8
  let out = "";
  for (let p = start; p < end; p++) {
    cur = ((cur << 8) | src[p]!) & 0xffff;
    bits += 8;
    sinceSymbol += 8;
    while (bits >= 8) {
      const entry = node[(cur >>> (bits - 8)) & 0xff]!;
      if (entry === 0) throw new HpackError("invalid Huffman code");
      if (entry > 0) {
        node = NODES[entry - 1]!;
        bits -= 8;
      } else {
        const leaf = -entry - 1;
        out += String.fromCharCode(leaf >>> 8);
        bits -= leaf & 0xff;
        sinceSymbol = bits;
        node = root;
      }
    }
  }
  while (bits > 0) {
    const entry = node[(cur << (8 - bits)) & 0xff]!;
    if (entry >= 0) break;
    const leaf = -entry - 1;
    if ((leaf & 0xff) > bits) break;
    out += String.fromCharCode(leaf >>> 8);
    bits -= leaf & 0xff;
    sinceSymbol = bits;
    node = root;
  }
  // What is left must be a prefix of EOS (all ones), shorter than a byte.
  if (sinceSymbol > 7) throw new HpackError("Huffman padding longer than 7 bits");
  const mask = (1 << bits) - 1;
  if ((cur & mask) !== mask) throw new HpackError("Huffman padding is not EOS");
  return out;
}

// ---- Decoder ----

/** Decodes header blocks of one connection; its dynamic table lives as long as the connection. */
export class HpackDecoder {
  /** Newest last. */
  private readonly dynamic: HeaderField[] = [];
  private size = 0;
  private maxSize: number;
  private pos = 0;
  private src: Uint8Array = new Uint8Array(0);

  /** `limit` is the SETTINGS_HEADER_TABLE_SIZE we announced: the encoder may not go above it. */
  constructor(private readonly limit = 4096) {
    this.maxSize = limit;
  }

  /**
   * Decodes one complete header block; `maxListSize` bounds the decoded size (RFC 9113 6.5.2 rule).
   * Over it, the block is still decoded to its end, so that the dynamic table stays in step with the
   * server's, and HeaderListTooLarge is thrown after.
   */
  decode(block: Uint8Array, maxListSize: number): HeaderField[] {
    this.src = block;
    this.pos = 0;
    const out: HeaderField[] = [];
    let listSize = 0;
    while (this.pos < block.length) {
      const b = block[this.pos]!;
      let field: HeaderField;
      if (b & 0x80) {
        field = this.entry(this.int(7));
      } else if ((b & 0xc0) === 0x40) {
        field = this.literal(6);
        this.add(field);
      } else if ((b & 0xe0) === 0x20) {
        const size = this.int(5);
        if (size > this.limit) throw new HpackError(`table size update ${size} above ${this.limit}`);
        this.maxSize = size;
        this.evict(0);
        continue;
      } else {
        field = this.literal(4); // without indexing (0000) or never indexed (0001)
      }
      listSize += field[0].length + field[1].length + 32;
      if (listSize <= maxListSize) out.push(field);
    }
    if (listSize > maxListSize) throw new HeaderListTooLarge(`header list larger than ${maxListSize} bytes`);
    return out;
  }

  private entry(index: number): HeaderField {
    if (index === 0) throw new HpackError("header index 0");
    if (index <= STATIC_COUNT) return STATIC_TABLE[index]!;
    const d = this.dynamic.length - (index - STATIC_COUNT);
    if (d < 0) throw new HpackError(`header index ${index} beyond the table`);
    return this.dynamic[d]!;
  }

  private literal(prefix: number): HeaderField {
    const index = this.int(prefix);
    const name = index === 0 ? this.string() : this.entry(index)[0];
    return [name, this.string()];
  }

  private add(field: HeaderField): void {
    const size = field[0].length + field[1].length + 32;
    this.evict(size);
    if (size <= this.maxSize) {
      this.dynamic.push(field);
      this.size += size;
    }
  }

  /** Evicts oldest entries until `incoming` more bytes fit (an entry larger than the table empties it). */
  private evict(incoming: number): void {
    let drop = 0;
    while (this.size + incoming > this.maxSize && drop < this.dynamic.length) {
      const [n, v] = this.dynamic[drop++]!;
      this.size -= n.length + v.length + 32;
    }
    if (drop > 0) this.dynamic.splice(0, drop);
  }

  private int(prefix: number): number {
    const src = this.src;
    if (this.pos >= src.length) throw new HpackError("truncated header block");
    const max = (1 << prefix) - 1;
    let value = src[this.pos++]! & max;
    if (value < max) return value;
    let shift = 0;
    for (;;) {
      if (this.pos >= src.length) throw new HpackError("truncated integer");
      const b = src[this.pos++]!;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (shift > 28) throw new HpackError("integer too large");
    }
    return value;
  }

  private string(): string {
    if (this.pos >= this.src.length) throw new HpackError("truncated header block");
    const huffman = (this.src[this.pos]! & 0x80) !== 0;
    const len = this.int(7);
    const start = this.pos;
    const end = start + len;
    if (end > this.src.length) throw new HpackError("string runs past the header block");
    this.pos = end;
    if (huffman) return huffmanDecode(this.src, start, end);
    return latin1(this.src, start, end);
  }
}

function latin1(src: Uint8Array, start: number, end: number): string {
  if (end - start < 32) {
    let s = "";
    for (let i = start; i < end; i++) s += String.fromCharCode(src[i]!);
    return s;
  }
  return Buffer.from(src.buffer, src.byteOffset + start, end - start).toString("latin1");
}

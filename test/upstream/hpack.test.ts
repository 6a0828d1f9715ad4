import { describe, expect, it } from "vitest";
import {
  HeaderListTooLarge,
  HpackDecoder,
  HpackError,
  huffmanDecode,
} from "../../src/upstream/grpc/h2/hpack.js";
import { HpackEncoder } from "../../src/upstream/grpc/h2/hpack-encoder.js";
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from "../../src/upstream/grpc/h2/huffman-table.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

// RFC 7541 Appendix C: each series is decoded by one decoder, in order (the dynamic table carries over).
const SERIES: Array<{ name: string; tableSize: number; blocks: Array<[string, Array<[string, string]>]> }> = [
  {
    name: "C.3 requests without Huffman",
    tableSize: 4096,
    blocks: [
      [
        "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        [
          [":method", "GET"],
          [":scheme", "http"],
          [":path", "/"],
          [":authority", "www.example.com"],
        ],
      ],
      [
        "8286 84be 5808 6e6f 2d63 6163 6865",
        [
          [":method", "GET"],
          [":scheme", "http"],
          [":path", "/"],
          [":authority", "www.example.com"],
          ["cache-control", "no-cache"],
        ],
      ],
      [
        "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
        [
          [":method", "GET"],
          [":scheme", "https"],
          [":path", "/index.html"],
          [":authority", "www.example.com"],
          ["custom-key", "custom-value"],
        ],
      ],
    ],
  },
  {
    name: "C.4 requests with Huffman",
    tableSize: 4096,
    blocks: [
      [
        "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        [
          [":method", "GET"],
          [":scheme", "http"],
          [":path", "/"],
          [":authority", "www.example.com"],
        ],
      ],
      [
        "8286 84be 5886 a8eb 1064 9cbf",
        [
          [":method", "GET"],
          [":scheme", "http"],
          [":path", "/"],
          [":authority", "www.example.com"],
          ["cache-control", "no-cache"],
        ],
      ],
      [
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
        [
          [":method", "GET"],
          [":scheme", "https"],
          [":path", "/index.html"],
          [":authority", "www.example.com"],
          ["custom-key", "custom-value"],
        ],
      ],
    ],
  },
  {
    name: "C.6 responses with Huffman and eviction (table of 256 bytes)",
    tableSize: 256,
    blocks: [
      [
        `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
         2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
        [
          [":status", "302"],
          ["cache-control", "private"],
          ["date", "Mon, 21 Oct 2013 20:13:21 GMT"],
          ["location", "https://www.example.com"],
        ],
      ],
      [
        "4883 640e ffc1 c0bf",
        [
          [":status", "307"],
          ["cache-control", "private"],
          ["date", "Mon, 21 Oct 2013 20:13:21 GMT"],
          ["location", "https://www.example.com"],
        ],
      ],
      [
        `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
         77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
         9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
        [
          [":status", "200"],
          ["cache-control", "private"],
          ["date", "Mon, 21 Oct 2013 20:13:22 GMT"],
          ["location", "https://www.example.com"],
          ["content-encoding", "gzip"],
          ["set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"],
        ],
      ],
    ],
  },
];

describe("HPACK decoder (RFC 7541 Appendix C)", () => {
  for (const series of SERIES) {
    it(`decodes ${series.name}`, () => {
      const decoder = new HpackDecoder(series.tableSize);
      for (const [block, fields] of series.blocks)
        expect(decoder.decode(hex(block), 1 << 20)).toEqual(fields);
    });
  }

  it.each([
    ["index 0", "80"],
    ["an index past the tables", "be"],
    ["a truncated string", "0f77 7777 2e"],
    ["a table size update above the limit", "3fe2 1f"],
    ["an integer that overflows", "ff ff ff ff ff ff 7f"],
  ])("rejects %s", (_name, block) => {
    expect(() => new HpackDecoder().decode(hex(block), 1 << 20)).toThrow(HpackError);
  });

  it("enforces the header list limit, keeping the table in step", () => {
    const block = hex("400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65");
    const decoder = new HpackDecoder();
    expect(() => decoder.decode(block, 40)).toThrow(HeaderListTooLarge);
    // the entry the oversized block added is there: index 62 refers to it
    expect(decoder.decode(hex("be"), 100)).toEqual([["custom-key", "custom-value"]]);
  });
});

describe("Huffman decoding", () => {
  it("decodes the RFC's strings", () => {
    expect(huffmanDecode(hex("a8eb 1064 9cbf"), 0, 6)).toBe("no-cache");
    expect(huffmanDecode(hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff"), 0, 12)).toBe("www.example.com");
  });

  it("decodes every byte value, whatever the code length", () => {
    // Encode bytes 0..255 (codes of 5 to 30 bits) with the RFC table, then decode them back.
    let bits = "";
    for (let b = 0; b < 256; b++) bits += HUFFMAN_CODES[b]!.toString(2).padStart(HUFFMAN_LENGTHS[b]!, "0");
    bits += "1".repeat((8 - (bits.length % 8)) % 8); // EOS prefix as padding
    const bytes = Buffer.alloc(bits.length / 8);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(bits.slice(i * 8, i * 8 + 8), 2);
    const decoded = huffmanDecode(bytes, 0, bytes.length);
    expect([...decoded].map((c) => c.charCodeAt(0))).toEqual([...Array(256).keys()]);
  });

  it.each([
    ["padding of more than 7 bits", "a8eb 1064 9cbf ff"],
    ["padding that is not all ones", "a8eb 1064 9cbe"],
  ])("rejects %s", (_name, bytes) => {
    const b = hex(bytes);
    expect(() => huffmanDecode(b, 0, b.length)).toThrow(HpackError);
  });
});

describe("HPACK encoder", () => {
  it("indexes repeating fields once and the decoder reads every block back", () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    let first = 0;
    for (let i = 0; i < 50; i++) {
      const fields: Array<[string, string]> = [
        [":method", "POST"],
        [":path", `/pkg.Svc/M${i % 5}`],
        ["content-type", "application/grpc"],
        ["x-request-id", `id-${i}`],
        ["authorization", "Bearer secret"],
      ];
      encoder
        .begin()
        .staticField(3)
        .repeated(":path", fields[1]![1])
        .repeated("content-type", "application/grpc");
      const block = encoder
        .literal("x-request-id", `id-${i}`)
        .literal("authorization", "Bearer secret")
        .block();
      if (i === 0) first = block.length;
      expect(decoder.decode(block, 1 << 20)).toEqual(fields);
      if (i >= 5) expect(block.length).toBeLessThan(first - 20); // path and content-type now go by index
    }
  });

  it("keeps the server's table in step through eviction and a smaller table size", () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    const check = (i: number): void => {
      const path = `/pkg.Service/Method${i}`;
      const block = encoder
        .begin()
        .repeated(":path", path)
        .repeated("x-forwarded-host", "gw.example:8080")
        .block();
      expect(decoder.decode(block, 1 << 20)).toEqual([
        [":path", path],
        ["x-forwarded-host", "gw.example:8080"],
      ]);
    };
    for (let i = 0; i < 300; i++) check(i % 120); // 120 distinct paths do not fit in 4096 bytes
    encoder.setMaxSize(100); // the server lowers SETTINGS_HEADER_TABLE_SIZE: a size update goes first
    for (let i = 0; i < 50; i++) check(i % 7);
    encoder.setMaxSize(0);
    for (let i = 0; i < 5; i++) check(i);
  });

  it("replays a run only while the table is unchanged, and the server reads every block back", () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    const sizes: number[] = [];
    // A run per method and deadline; every 7th call brings a new x-forwarded-for value (an
    // insertion), and the table shrinks later: each of those must stop the runs kept before from
    // being replayed. Calls to M2 alternate between no deadline and one (two variants of one key).
    for (let i = 0; i < 60; i++) {
      if (i === 33) encoder.setMaxSize(200); // no insertion since the last three runs were kept
      const path = `/pkg.Svc/M${i % 3}`;
      const timeout = i % 3 === 2 && i % 2 === 0 ? "5000m" : undefined;
      const peer = `10.0.0.${Math.floor(i / 7)}`;
      encoder.begin();
      if (!encoder.replay(path, timeout)) {
        encoder
          .staticField(3)
          .repeated(":path", path)
          .repeated("content-type", "application/grpc")
          .repeated("te", "trailers");
        if (timeout) encoder.repeated("grpc-timeout", timeout);
        encoder.endRun();
      }
      encoder.repeated("x-forwarded-for", peer).literal("x-request-id", `id-${i}`);
      const block = encoder.block();
      sizes.push(block.length);
      expect(decoder.decode(block, 1 << 20)).toEqual([
        [":method", "POST"],
        [":path", path],
        ["content-type", "application/grpc"],
        ["te", "trailers"],
        ...(timeout ? [["grpc-timeout", timeout]] : []),
        ["x-forwarded-for", peer],
        ["x-request-id", `id-${i}`],
      ]);
    }
    // Steady state (all indexed) is as small as the first, literal, blocks are large.
    expect(Math.min(...sizes.slice(3, 7))).toBeLessThan(sizes[0]! - 30);
  });

  it("refers to a kept name by index, and spells it out again once it was evicted", () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    const sizes: number[] = [];
    for (let i = 0; i < 200; i++) {
      const id = `0f3a1c2e-${String(i).padStart(4, "0")}-4000-8000-000000000000`;
      // Every 10th call, a burst of new paths pushes everything older out of the 4096-byte table.
      const paths = i % 10 === 9 ? Array.from({ length: 60 }, (_, k) => `/pkg.Svc/Burst${i}x${k}`) : [];
      encoder.begin();
      for (const p of paths) encoder.repeated(":path", p);
      const block = encoder
        .literal("x-request-id", id, true)
        .literal("x-trace", `t${i}`) // not kept: always spelled out
        .literal("authorization", "Bearer s3cret", true) // never indexed, even when asked
        .block();
      if (paths.length === 0) sizes.push(block.length);
      expect(decoder.decode(block, 1 << 20)).toEqual([
        ...paths.map((p) => [":path", p]),
        ["x-request-id", id],
        ["x-trace", `t${i}`],
        ["authorization", "Bearer s3cret"],
      ]);
    }
    // The name goes by index on every call but the first after each eviction (one byte, not 13).
    expect(Math.min(...sizes)).toBeLessThan(sizes[0]! - 10);
    // The secret never entered the table: a fresh block still spells it with the never-indexed flag.
    const secret = encoder.begin().literal("authorization", "Bearer s3cret", true).block();
    expect(secret[0]! & 0xf0).toBe(0x10);
  });

  it("encodes integers on their prefix boundaries", () => {
    const decoder = new HpackDecoder();
    for (const len of [0, 1, 126, 127, 128, 255, 16_383, 16_384, 70_000]) {
      const value = "v".repeat(len);
      const block = new HpackEncoder().begin().literal("x-long", value).block();
      expect(decoder.decode(block, 1 << 20)).toEqual([["x-long", value]]);
    }
  });
});

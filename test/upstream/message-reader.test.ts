import { describe, expect, it } from "vitest";
import { Code } from "../../src/errors/code.js";
import { MessageReader } from "../../src/upstream/grpc/wire.js";
import { rng } from "../helpers/random.js";

const framed = (payload: Buffer, flag = 0): Buffer => {
  const b = Buffer.alloc(5 + payload.length);
  b[0] = flag;
  b.writeUInt32BE(payload.length, 1);
  payload.copy(b, 5);
  return b;
};

/** Feeds `data` cut at `cuts`; returns the messages read and the error, if any. */
function read(data: Buffer, cuts: number[], max = 1 << 20) {
  const reader = new MessageReader(max);
  const out: Buffer[] = [];
  let from = 0;
  for (const to of [...cuts, data.length]) {
    const error = reader.push(data.subarray(from, to), out);
    if (error) return { out, error, partial: reader.partial };
    from = to;
  }
  return { out, error: undefined, partial: reader.partial };
}

describe("MessageReader", () => {
  it("reads the same messages however the stream is cut (property, seeded)", () => {
    const rand = rng(20).next;
    for (let round = 0; round < 300; round++) {
      const messages = Array.from({ length: 1 + Math.floor(rand() * 8) }, () =>
        Buffer.from(Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256))),
      );
      const data = Buffer.concat(messages.map((m) => framed(m)));
      const cuts = Array.from({ length: Math.floor(rand() * 12) }, () =>
        Math.floor(rand() * data.length),
      ).sort((a, b) => a - b);
      const { out, error, partial } = read(data, cuts);
      expect(error).toBeUndefined();
      expect(partial).toBe(0);
      expect(out).toEqual(messages);
    }
  });

  it("holds a message that is not complete yet (truncated at the end)", () => {
    const data = framed(Buffer.from("hello"));
    expect(read(data.subarray(0, 7), [3]).partial).toBe(7);
    expect(read(data.subarray(0, 3), []).partial).toBe(3);
  });

  /** A prefix that announces `length` bytes, and only a few of them. */
  const announcing = (length: number, flag = 0): Buffer => {
    const b = Buffer.alloc(5 + 3);
    b[0] = flag;
    b.writeUInt32BE(length, 1);
    return b;
  };
  it.each([
    ["a compressed message", announcing(3, 1), Code.INTERNAL],
    ["a message over the limit", announcing(0xffffffff), Code.RESOURCE_EXHAUSTED],
  ])("fails %s as soon as its prefix is read, whole or cut inside the prefix", (_name, data, code) => {
    for (const cuts of [[], [2], [1, 4]]) {
      const { error } = read(data, cuts, 100);
      expect(error?.code).toBe(code);
    }
  });
});

import { describe, expect, it } from "vitest";
import {
  Flag,
  FRAME_HEADER,
  FrameType,
  H2Error,
  ProtocolError,
  writeHeader,
} from "../../src/upstream/grpc/h2/frame.js";
import { FrameReader } from "../../src/upstream/grpc/h2/reader.js";

/** The HTTP/2 client's frame reader: framing across reads, header blocks over CONTINUATION, framing errors. */

function frame(type: number, flags: number, id: number, payload: Buffer | string): Buffer {
  const body = Buffer.from(payload);
  const buf = Buffer.alloc(FRAME_HEADER + body.length);
  writeHeader(buf, 0, body.length, type, flags, id);
  body.copy(buf, FRAME_HEADER);
  return buf;
}

/** Reads `bytes` in the given pieces; returns what reached the sink, as readable lines. */
function readAll(bytes: Buffer, cuts: number[] = []): string[] {
  const seen: string[] = [];
  const reader = new FrameReader({
    onFrame: (type, flags, id, payload) => seen.push(`frame ${type}/${flags} #${id} ${payload.toString()}`),
    onHeaderBlock: (id, flags, block) =>
      seen.push(`headers ${flags & Flag.END_STREAM ? "end " : ""}#${id} ${block}`),
  });
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    reader.read(bytes.subarray(at, cut));
    at = cut;
  }
  return seen;
}

const padded = (content: string, pad: number) =>
  Buffer.concat([Buffer.from([pad]), Buffer.from(content), Buffer.alloc(pad)]);
const priority = (content: string) => Buffer.concat([Buffer.alloc(5), Buffer.from(content)]);

describe("FrameReader", () => {
  const stream = Buffer.concat([
    frame(FrameType.SETTINGS, 0, 0, ""),
    frame(FrameType.HEADERS, Flag.END_HEADERS, 1, "h1"),
    frame(FrameType.DATA, 0, 1, "data"),
    frame(FrameType.HEADERS, 0, 3, "part1-"),
    frame(FrameType.CONTINUATION, 0, 3, "part2-"),
    frame(FrameType.CONTINUATION, Flag.END_HEADERS, 3, "part3"),
    frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM | Flag.PADDED, 5, padded("trailers", 3)),
    frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.PRIORITY, 7, priority("prio")),
  ]);
  const expected = [
    "frame 4/0 #0 ",
    "headers #1 h1",
    "frame 0/0 #1 data",
    "headers #3 part1-part2-part3",
    "headers end #5 trailers",
    "headers #7 prio",
  ];

  it("delivers frames and whole header blocks from one read", () => {
    expect(readAll(stream)).toEqual(expected);
  });

  it("delivers the same whatever the reads are cut into (every cut, and byte by byte)", () => {
    for (let cut = 1; cut < stream.length; cut++) expect(readAll(stream, [cut])).toEqual(expected);
    expect(
      readAll(
        stream,
        Array.from({ length: stream.length - 1 }, (_, i) => i + 1),
      ),
    ).toEqual(expected);
  });

  const errors: Array<[string, Buffer, number, RegExp]> = [
    [
      "a frame over the default maximum size",
      Buffer.from([0x00, 0x40, 0x01, 0, 0, 0, 0, 0, 1]),
      H2Error.FRAME_SIZE_ERROR,
      /too large/,
    ],
    [
      "another frame inside a header block",
      Buffer.concat([frame(FrameType.HEADERS, 0, 1, "a"), frame(FrameType.DATA, 0, 1, "b")]),
      H2Error.PROTOCOL_ERROR,
      /expected CONTINUATION/,
    ],
    [
      "a CONTINUATION of another stream",
      Buffer.concat([
        frame(FrameType.HEADERS, 0, 1, "a"),
        frame(FrameType.CONTINUATION, Flag.END_HEADERS, 3, "b"),
      ]),
      H2Error.PROTOCOL_ERROR,
      /stray CONTINUATION/,
    ],
    [
      "a CONTINUATION with no header block",
      frame(FrameType.CONTINUATION, Flag.END_HEADERS, 0, "b"),
      H2Error.PROTOCOL_ERROR,
      /stray/,
    ],
    [
      "padding longer than the frame",
      frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.PADDED, 1, Buffer.from([9, 1, 2])),
      H2Error.PROTOCOL_ERROR,
      /padding/,
    ],
  ];
  it.each(errors)("refuses %s as a connection error", (_name, bytes, code, message) => {
    let thrown: unknown;
    try {
      readAll(bytes);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ProtocolError);
    expect((thrown as ProtocolError).code).toBe(code);
    expect((thrown as Error).message).toMatch(message);
  });

  it("delivers nothing more once stopped, not even the rest of the read", () => {
    const seen: number[] = [];
    const reader = new FrameReader({
      onFrame: (_t, _f, id) => {
        seen.push(id);
        if (id === 1) reader.stop();
      },
      onHeaderBlock: () => undefined,
    });
    reader.read(Buffer.concat([frame(FrameType.DATA, 0, 1, "a"), frame(FrameType.DATA, 0, 3, "b")]));
    reader.read(frame(FrameType.DATA, 0, 5, "c"));
    expect(seen).toEqual([1]);
  });
});

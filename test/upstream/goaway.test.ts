import * as http2 from "node:http2";
import { describe, expect, it } from "vitest";
import { Code } from "../../src/errors/code.js";
import { Metadata } from "../../src/upstream/call-metadata.js";
import { Channel } from "../../src/upstream/grpc/channel.js";
import { call, FAST, frameOf, grpcServer, h2Server, okAnswer, stop } from "./servers.js";

// Issue #20 point 8: GOAWAY with an error code, and the backend's SETTINGS_MAX_HEADER_LIST_SIZE.
// node:http2 servers send what grpc-js would only send on a fault; no test waits for a deadline
// (calls have 30 s, the test's own timeout is shorter: a hang fails it).

const LONG = { timeoutMs: 30_000 };

describe("GOAWAY with an error code", () => {
  it.each([
    ["COMPRESSION_ERROR", http2.constants.NGHTTP2_COMPRESSION_ERROR],
    ["PROTOCOL_ERROR", http2.constants.NGHTTP2_PROTOCOL_ERROR],
    ["INTERNAL_ERROR", http2.constants.NGHTTP2_INTERNAL_ERROR],
    ["ENHANCE_YOUR_CALM", http2.constants.NGHTTP2_ENHANCE_YOUR_CALM],
  ])(
    "%s: calls it took fail at once, calls above last-stream-id go to a new connection",
    async (name, code) => {
      // First connection: take three calls, then GOAWAY naming the first as the last processed, and
      // keep the socket open (as the servers of the issue did). Later connections answer.
      const held: http2.ServerHttp2Stream[] = [];
      let first: http2.Http2Session | undefined;
      const h2 = await h2Server((s) => {
        first ??= s.session;
        if (s.session !== first) {
          okAnswer(s, [frameOf(Buffer.from(`retried ${s.id}`))]);
          return;
        }
        held.push(s);
        if (held.length === 3) s.session?.goaway(code, held[0]!.id!, Buffer.from("bad hpack"));
      });
      const channel = new Channel(`127.0.0.1:${h2.port}`, FAST);
      try {
        // The three wait for the connection, then go out in order: "a" gets stream 1.
        const [a, b, c] = await Promise.all(["a", "b", "c"].map((m) => call(channel, Buffer.from(m), LONG)));
        expect(a!.status.code).toBe(Code.UNAVAILABLE);
        expect(a!.status.details).toContain(`GOAWAY ${name}`);
        expect(a!.status.details).toContain("bad hpack");
        for (const r of [b!, c!]) {
          expect(r.status.code).toBe(Code.OK); // never processed: sent again, transparently
          expect(r.message?.toString()).toMatch(/^retried/);
        }
        expect(h2.connections()).toBe(2);
        const next = await call(channel, Buffer.from("d"), LONG); // the channel goes on
        expect(next.status.code).toBe(Code.OK);
      } finally {
        channel.close();
        h2.server.close();
      }
    },
  );

  it("a GOAWAY without error still lets the calls it took finish (graceful drain)", async () => {
    const h2 = await h2Server((s, _h, n) => {
      if (n === 0) {
        s.session?.goaway(http2.constants.NGHTTP2_NO_ERROR, s.id!);
        setTimeout(() => okAnswer(s, [frameOf(Buffer.from("first"))]), 30);
      } else okAnswer(s, [frameOf(Buffer.from("later"))]);
    });
    const channel = new Channel(`127.0.0.1:${h2.port}`, FAST);
    try {
      const r = await call(channel, Buffer.from("x"), LONG);
      expect(r.status.code).toBe(Code.OK);
      expect(r.message?.toString()).toBe("first");
    } finally {
      channel.close();
      h2.server.close();
    }
  });
});

/** Metadata of one key whose header list entry is about `bytes` long. */
function bigMetadata(bytes: number): Metadata {
  const md = new Metadata();
  md.set("x-big", "v".repeat(bytes));
  return md;
}

describe("the backend's SETTINGS_MAX_HEADER_LIST_SIZE", () => {
  it("fails a call whose metadata is too large before sending it, and keeps the connection", async () => {
    const h2 = await h2Server((s) => okAnswer(s, [frameOf(Buffer.from("ok"))]), { maxHeaderListSize: 2048 });
    const channel = new Channel(`127.0.0.1:${h2.port}`, FAST);
    try {
      expect((await call(channel, Buffer.from("warm-up"), LONG)).status.code).toBe(Code.OK);
      const big = await call(channel, Buffer.from("x"), { ...LONG, metadata: bigMetadata(4000) });
      expect(big.status.code).toBe(Code.RESOURCE_EXHAUSTED);
      expect(big.status.details).toMatch(/metadata is too large for the backend.*accepts 2048/);
      expect(h2.streams()).toBe(1); // the server never saw it
      // Just under the limit (by our count, which must match the server's) still goes through.
      const fits = await call(channel, Buffer.from("y"), { ...LONG, metadata: bigMetadata(1500) });
      expect(fits.status.code).toBe(Code.OK);
      expect(h2.streams()).toBe(2);
      expect(h2.connections()).toBe(1); // HPACK stayed in step: the same connection throughout
    } finally {
      channel.close();
      h2.server.close();
    }
  });

  it("counts exactly as the server does: a byte over the limit is refused, the limit itself passes", async () => {
    const h2 = await h2Server((s) => okAnswer(s, [frameOf(Buffer.from("ok"))]), { maxHeaderListSize: 1000 });
    const channel = new Channel(`127.0.0.1:${h2.port}`, FAST);
    try {
      // Find the value length that reaches the limit by our count, then check both sides with the server.
      const probe = await call(channel, Buffer.from("p"), { ...LONG, metadata: bigMetadata(5000) });
      const size = Number(/header list of (\d+) bytes/.exec(probe.status.details)![1]);
      const atLimit = 5000 - (size - 1000);
      const ok = await call(channel, Buffer.from("a"), { ...LONG, metadata: bigMetadata(atLimit) });
      expect(ok.status.code).toBe(Code.OK);
      const over = await call(channel, Buffer.from("b"), { ...LONG, metadata: bigMetadata(atLimit + 1) });
      expect(over.status.code).toBe(Code.RESOURCE_EXHAUSTED);
      expect(h2.streams()).toBe(1);
    } finally {
      channel.close();
      h2.server.close();
    }
  });

  it("does not limit a backend that declares no limit (grpc-js)", async () => {
    const srv = await grpcServer();
    const channel = new Channel(`127.0.0.1:${srv.port}`, FAST);
    try {
      const r = await call(channel, Buffer.from("x"), { ...LONG, metadata: bigMetadata(8000) });
      expect(r.status.code).toBe(Code.OK);
      expect(srv.seen.at(-1)!.metadata.get("x-big")[0]).toHaveLength(8000);
    } finally {
      channel.close();
      stop(srv.server);
    }
  });
});

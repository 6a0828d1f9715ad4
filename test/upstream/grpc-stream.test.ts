import * as http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "../../src/errors/code.js";
import { Metadata } from "../../src/upstream/call-metadata.js";
import { Channel } from "../../src/upstream/grpc/channel.js";
import { openStream, type StreamCall, type StreamStatus } from "../../src/upstream/grpc/stream.js";
import { MESSAGE_PREFIX } from "../../src/upstream/grpc/wire.js";
import { FAST, frameOf, h2Server, okAnswer, stop } from "./servers.js";

// Streaming calls (issue #14 item 1) over the gateway's own HTTP/2 client, against grpc-js servers.

const raw = (b: Buffer): Buffer => b;
const method = (name: string, requestStream: boolean, responseStream: boolean) => ({
  path: `/test.Streams/${name}`,
  requestStream,
  responseStream,
  requestSerialize: raw,
  requestDeserialize: raw,
  responseSerialize: raw,
  responseDeserialize: raw,
});
const SERVICE = {
  Count: method("Count", false, true), // server stream: "n" -> n messages "0".."n-1"
  Flood: method("Flood", false, true), // server stream: "n" -> n messages of 64 KiB
  Sum: method("Sum", true, false), // client stream: the messages joined with "+"
  Echo: method("Echo", true, true), // bidi: each message back
  FailAfterOne: method("FailAfterOne", false, true),
  FailAtOnce: method("FailAtOnce", false, true),
  Forever: method("Forever", false, true), // a message every 5 ms until cancelled
};

const FLOOD_MESSAGE = 64 * 1024;

interface Server {
  port: number;
  server: grpc.Server;
  cancelled: string[];
  floodWritten: () => number;
}

async function streamServer(): Promise<Server> {
  const server = new grpc.Server();
  const cancelled: string[] = [];
  let floodWritten = 0;
  server.addService(
    SERVICE as unknown as grpc.ServiceDefinition,
    {
      Count: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        const headers = new grpc.Metadata();
        headers.set("x-head", "h");
        call.sendMetadata(headers);
        const n = Number(call.request.toString());
        for (let i = 0; i < n; i++) call.write(Buffer.from(String(i)));
        const trailers = new grpc.Metadata();
        trailers.set("x-trailer", "t");
        call.end(trailers);
      },
      Flood: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        const n = Number(call.request.toString());
        let i = 0;
        // one write at a time, the next from the previous one's callback: the pace flow control sets
        const next = (): void => {
          if (i === n) return void call.end();
          i++;
          call.write(Buffer.alloc(FLOOD_MESSAGE, i & 0xff), () => {
            floodWritten++;
            next();
          });
        };
        next();
      },
      Sum: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        const parts: string[] = [];
        call.on("data", (b: Buffer) => parts.push(b.toString()));
        call.on("end", () => cb(null, Buffer.from(parts.join("+"))));
      },
      Echo: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        call.on("data", (b: Buffer) => call.write(b));
        call.on("end", () => call.end());
      },
      FailAfterOne: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        call.write(Buffer.from("one"));
        const md = new grpc.Metadata();
        md.set("x-why", "because");
        setTimeout(
          () => call.emit("error", { code: grpc.status.ABORTED, details: "stopped after one", metadata: md }),
          5,
        );
      },
      FailAtOnce: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        const md = new grpc.Metadata();
        md.set("x-why", "at once");
        call.emit("error", { code: grpc.status.NOT_FOUND, details: "nothing here", metadata: md });
      },
      Forever: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        let i = 0;
        const timer = setInterval(() => call.write(Buffer.from(String(i++))), 5);
        call.on("cancelled", () => {
          clearInterval(timer);
          cancelled.push("Forever");
        });
      },
    } as unknown as grpc.UntypedServiceImplementation,
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { port, server, cancelled, floodWritten: () => floodWritten };
}

/** A message with room for its prefix, as the codec encodes it. */
const msg = (text: string | Buffer): Buffer =>
  Buffer.concat([Buffer.alloc(MESSAGE_PREFIX), typeof text === "string" ? Buffer.from(text) : text]);

interface Recorder {
  call: StreamCall;
  headers: Metadata[];
  messages: Buffer[];
  ended: Promise<StreamStatus>;
}

function record(
  channel: Channel,
  name: keyof typeof SERVICE,
  hooks: {
    onMessage?: (m: Buffer, r: Recorder) => void;
    onHeaders?: (r: Recorder) => void;
    timeoutMs?: number;
  } = {},
): Recorder {
  let done!: (s: StreamStatus) => void;
  const r = {
    headers: [],
    messages: [],
    ended: new Promise<StreamStatus>((res) => (done = res)),
  } as unknown as Recorder;
  r.call = openStream(channel, SERVICE[name].path, new Metadata(), hooks.timeoutMs ?? 10_000, {
    onHeaders: (md) => {
      r.headers.push(md);
      hooks.onHeaders?.(r);
    },
    onMessage: (m) => {
      r.messages.push(m);
      hooks.onMessage?.(m, r);
    },
    onEnd: (s) => done(s),
  });
  return r;
}

const texts = (r: Recorder): string[] => r.messages.map((m) => m.toString());

describe("streaming calls against grpc-js", () => {
  let srv: Server;
  let channel: Channel;
  beforeAll(async () => {
    srv = await streamServer();
    channel = new Channel(`127.0.0.1:${srv.port}`, FAST);
  });
  afterAll(() => {
    channel.close();
    stop(srv.server);
  });

  it("server stream: N messages, header metadata, then OK with trailers", async () => {
    const r = record(channel, "Count");
    r.call.write(msg("50"));
    r.call.end();
    const status = await r.ended;
    expect(status.code).toBe(Code.OK);
    expect(texts(r)).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
    expect(r.headers).toHaveLength(1);
    expect(r.headers[0]!.get("x-head")).toEqual(["h"]);
    expect(status.metadata.get("x-trailer")).toEqual(["t"]);
  });

  it("client stream: many messages in, one answer", async () => {
    const r = record(channel, "Sum");
    for (let i = 0; i < 20; i++) r.call.write(msg(String(i)));
    r.call.end();
    const status = await r.ended;
    expect(status.code).toBe(Code.OK);
    expect(texts(r)).toEqual([Array.from({ length: 20 }, (_, i) => String(i)).join("+")]);
  });

  it("bidi: each message echoed, the next written from the answer", async () => {
    let sent = 0;
    const r = record(channel, "Echo", {
      onMessage: (_m, rec) => {
        if (++sent < 10) rec.call.write(msg(`m${sent}`));
        else rec.call.end();
      },
    });
    r.call.write(msg("m0"));
    const status = await r.ended;
    expect(status.code).toBe(Code.OK);
    expect(texts(r)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
  });

  it("bidi: a message larger than the server's window waits for it, then goes whole", async () => {
    const big = Buffer.alloc(1024 * 1024 + 3, 9); // > grpc-js's 64 KiB initial stream window
    let drained = 0;
    let done!: (s: StreamStatus) => void;
    const ended = new Promise<StreamStatus>((res) => (done = res));
    const got: Buffer[] = [];
    const call = openStream(channel, SERVICE.Echo.path, new Metadata(), 10_000, {
      onHeaders: () => undefined,
      onMessage: (m) => got.push(m),
      onEnd: done,
      onDrain: () => {
        drained++;
      },
    });
    await new Promise((r) => setTimeout(r, 20)); // connected: write straight to the session
    const accepted = call.write(msg(big));
    call.end();
    expect((await ended).code).toBe(Code.OK);
    expect(got).toHaveLength(1);
    expect(got[0]!.equals(big)).toBe(true);
    if (!accepted) expect(drained).toBe(1); // false from write() is always followed by onDrain
  });

  it("an error after the first message: the message, then the status and its trailers", async () => {
    const r = record(channel, "FailAfterOne");
    r.call.write(msg(""));
    r.call.end();
    const status = await r.ended;
    expect(texts(r)).toEqual(["one"]);
    expect(status.code).toBe(Code.ABORTED);
    expect(status.details).toBe("stopped after one");
    expect(status.metadata.get("x-why")).toEqual(["because"]);
  });

  it("trailers-only: no header metadata, no message, the status", async () => {
    const r = record(channel, "FailAtOnce");
    r.call.write(msg(""));
    r.call.end();
    const status = await r.ended;
    expect(status.code).toBe(Code.NOT_FOUND);
    expect(status.details).toBe("nothing here");
    expect(status.metadata.get("x-why")).toEqual(["at once"]);
    expect(r.headers).toHaveLength(0);
    expect(r.messages).toHaveLength(0);
  });

  it("cancel mid-stream: CANCELLED at once, and the server's call is cancelled (no stream left open)", async () => {
    const r = record(channel, "Forever", {
      onMessage: (_m, rec) => {
        if (rec.messages.length === 3) rec.call.cancel();
      },
    });
    r.call.write(msg(""));
    r.call.end();
    const status = await r.ended;
    expect(status.code).toBe(Code.CANCELLED);
    expect(r.messages).toHaveLength(3);
    await expect.poll(() => srv.cancelled.includes("Forever")).toBe(true);
    const session = channel.pick() as unknown as { streams: { size: number } };
    expect(session.streams.size).toBe(0);
  });

  it("ends a stream at its deadline with DEADLINE_EXCEEDED and cancels it at the server", async () => {
    const before = srv.cancelled.length;
    const r = record(channel, "Forever", { timeoutMs: 100 });
    r.call.write(msg(""));
    r.call.end();
    const status = await r.ended;
    expect(status.code).toBe(Code.DEADLINE_EXCEEDED);
    await expect.poll(() => srv.cancelled.length).toBe(before + 1);
  });

  it("a paused reader stalls the server's writes (flow control), and resume delivers everything", async () => {
    const N = 200; // 12.5 MiB: three times our 4 MiB stream window
    const r = record(channel, "Flood", { onHeaders: (rec) => rec.call.pause() });
    r.call.write(msg(String(N)));
    r.call.end();
    // Wait until the server's write callbacks stop coming (they wait for our WINDOW_UPDATE).
    let last = -1;
    let still = 0;
    while (still < 3) {
      await new Promise((res) => setTimeout(res, 100));
      const now = srv.floodWritten();
      still = now === last ? still + 1 : 0;
      last = now;
    }
    expect(r.messages).toHaveLength(0); // paused: nothing delivered
    // What the server got through is about our window (4 MiB), not the 12.5 MiB it wanted to send.
    expect(srv.floodWritten() * FLOOD_MESSAGE).toBeLessThan(6 * 1024 * 1024);
    r.call.resume();
    const status = await r.ended;
    expect(status.code).toBe(Code.OK);
    expect(r.messages).toHaveLength(N);
    expect(r.messages.every((m, i) => m.length === FLOOD_MESSAGE && m[0] === ((i + 1) & 0xff))).toBe(true);
  });
});

describe("streaming calls: connection management (node:http2 servers)", () => {
  /** Opens a stream to `channel`, writes `messages`, ends, and resolves with what came back. */
  async function roundTrip(channel: Channel, messages: Buffer[], metadata = new Metadata()) {
    const got: string[] = [];
    const status = await new Promise<StreamStatus>((resolve) => {
      const call = openStream(channel, "/test.Raw/Stream", metadata, 10_000, {
        onHeaders: () => undefined,
        onMessage: (m) => got.push(m.toString()),
        onEnd: resolve,
      });
      for (const m of messages) call.write(msg(m));
      call.end();
    });
    return { status, got };
  }

  it("sends a refused stream again with what it wrote, transparently", async () => {
    const h2 = await h2Server((s, _h, n) => {
      if (n === 0) s.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      else okAnswer(s, [frameOf(Buffer.from("second")), frameOf(Buffer.from("try"))]);
    });
    const channel = new Channel(`127.0.0.1:${h2.port}`, FAST);
    try {
      const { status, got } = await roundTrip(channel, [Buffer.from("a"), Buffer.from("b")]);
      expect(status.code).toBe(Code.OK);
      expect(got).toEqual(["second", "try"]);
      expect(h2.streams()).toBe(2);
    } finally {
      channel.close();
      h2.server.close();
    }
  });

  it("does not send again a refused stream that wrote more than it keeps (UNAVAILABLE)", async () => {
    const h2 = await h2Server((s) => s.close(http2.constants.NGHTTP2_REFUSED_STREAM));
    const channel = new Channel(`127.0.0.1:${h2.port}`, FAST);
    try {
      const { status } = await roundTrip(channel, [Buffer.alloc(40_000), Buffer.alloc(40_000)]);
      expect(status.code).toBe(Code.UNAVAILABLE);
      expect(h2.streams()).toBe(1);
    } finally {
      channel.close();
      h2.server.close();
    }
  });

  it("fails a stream whose metadata passes the server's header-list limit, before sending it", async () => {
    const h2 = await h2Server((s) => okAnswer(s, [frameOf(Buffer.from("ok"))]), { maxHeaderListSize: 1024 });
    const channel = new Channel(`127.0.0.1:${h2.port}`, FAST);
    try {
      expect((await roundTrip(channel, [Buffer.from("warm-up")])).status.code).toBe(Code.OK);
      const md = new Metadata();
      md.set("x-big", "v".repeat(2000));
      const { status } = await roundTrip(channel, [Buffer.from("x")], md);
      expect(status.code).toBe(Code.RESOURCE_EXHAUSTED);
      expect(status.details).toMatch(/metadata is too large for the backend/); // ours, not the server's reset
      expect(h2.streams()).toBe(1);
      expect((await roundTrip(channel, [Buffer.from("y")])).got).toEqual(["ok"]);
      expect(h2.connections()).toBe(1);
    } finally {
      channel.close();
      h2.server.close();
    }
  });

  it("waits for a stream slot, then sends what was written meanwhile", async () => {
    const h2 = await h2Server(
      (s) => setTimeout(() => okAnswer(s, [frameOf(Buffer.from(String(s.id)))]), 20),
      {
        maxConcurrentStreams: 1,
      },
    );
    const channel = new Channel(`127.0.0.1:${h2.port}`, FAST);
    try {
      const results = await Promise.all(
        Array.from({ length: 4 }, (_, i) => roundTrip(channel, [Buffer.from(`m${i}`), Buffer.from("more")])),
      );
      for (const r of results) expect(r.status.code).toBe(Code.OK);
      expect(results.map((r) => r.got[0]).sort()).toEqual(["1", "3", "5", "7"]);
    } finally {
      channel.close();
      h2.server.close();
    }
  });
});

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import * as http2 from "node:http2";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "../../src/errors/code.js";
import { Metadata } from "../../src/upstream/call-metadata.js";
import { Channel } from "../../src/upstream/grpc/channel.js";
import { call, FAST, frameOf, grpcServer, h2Server, okAnswer, type RawServer, stop } from "./servers.js";

/**
 * The gateway's own HTTP/2 gRPC client against real servers: grpc-js (an independent implementation)
 * for the protocol as a whole, node:http2 servers for the edge cases a gRPC server library will not
 * produce on purpose (odd statuses, resets, GOAWAY), and a raw TCP server that stops answering.
 */

describe("gRPC over the lean HTTP/2 client, against grpc-js", () => {
  let srv: RawServer;
  let channel: Channel;
  beforeAll(async () => {
    srv = await grpcServer();
    channel = new Channel(`127.0.0.1:${srv.port}`, FAST);
  });
  afterAll(() => {
    channel.close();
    stop(srv.server);
  });

  it("sends the request and metadata, and gets the answer, header metadata and trailers", async () => {
    const md = new Metadata();
    md.set("x-in", "hello");
    md.set("x-data-bin", Buffer.from([0, 1, 2, 255]));
    const r = await call(channel, Buffer.from("payload"), { metadata: md });
    expect(r.status.code).toBe(Code.OK);
    expect(r.message?.toString()).toBe("payload");
    expect(r.headers?.get("x-echo")).toEqual(["hello"]);
    expect(r.status.metadata.get("x-trailer")).toEqual(["t"]);
    const seen = srv.seen.at(-1)!;
    expect(seen.metadata.get("x-data-bin")).toEqual([Buffer.from([0, 1, 2, 255])]);
    expect(seen.metadata.get("user-agent")[0]).toMatch(/^protogate/);
  });

  it("sends an empty message and gets one back", async () => {
    const r = await call(channel, Buffer.alloc(0));
    expect(r.status.code).toBe(Code.OK);
    expect(r.message).toEqual(Buffer.alloc(0));
  });

  it("moves requests and answers larger than the flow-control windows, both ways", async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7); // > 64 KiB initial window, > 16 KiB frames
    big.writeUInt32BE(0xdeadbeef, big.length - 4);
    const results = await Promise.all([1, 2, 3].map(() => call(channel, big, { timeoutMs: 30_000 })));
    for (const r of results) {
      expect(r.status.code).toBe(Code.OK);
      expect(r.message?.equals(big)).toBe(true);
    }
  });

  it("carries hundreds of concurrent calls on one connection", async () => {
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) => call(channel, Buffer.from(`m${i}`))),
    );
    results.forEach((r, i) => {
      expect(r.status.code).toBe(Code.OK);
      expect(r.message?.toString()).toBe(`m${i}`);
    });
  });
});

describe("status, deadlines and cancellation", () => {
  let srv: RawServer;
  let channel: Channel;
  beforeAll(async () => {
    srv = await grpcServer((c, callback) => {
      const what = c.request.toString();
      if (what.startsWith("sleep")) {
        const t = setTimeout(() => callback(null, c.request), 2000);
        c.on("cancelled", () => clearTimeout(t));
        return;
      }
      const trailers = new grpc.Metadata();
      trailers.set("grpc-status-details-bin", Buffer.from([8, 5]));
      trailers.set("x-why", "because");
      callback({ code: grpc.status.NOT_FOUND, details: "no such thing: ünïcode 100%", metadata: trailers });
    });
    channel = new Channel(`127.0.0.1:${srv.port}`, FAST);
  });
  afterAll(() => {
    channel.close();
    stop(srv.server);
  });

  it("reports the server's status, its percent-encoded message and binary trailers", async () => {
    const r = await call(channel, Buffer.from("fail"));
    expect(r.status.code).toBe(Code.NOT_FOUND);
    expect(r.status.details).toBe("no such thing: ünïcode 100%");
    expect(r.status.metadata.get("grpc-status-details-bin")).toEqual([Buffer.from([8, 5])]);
    expect(r.status.metadata.get("x-why")).toEqual(["because"]);
    expect(r.message).toBeUndefined();
  });

  it("ends a call at its deadline, and the server sees the cancellation", async () => {
    const r = await call(channel, Buffer.from("sleep-deadline"), { timeoutMs: 100 });
    expect(r.status.code).toBe(Code.DEADLINE_EXCEEDED);
    const seen = srv.seen.find((s) => s.request.toString() === "sleep-deadline")!;
    expect(Number(seen.deadline)).toBeLessThan(Date.now() + 100); // the server got our grpc-timeout
    await expect.poll(() => seen.cancelled()).toBe(true);
  });

  it("cancels a call on request, and the server sees it", async () => {
    const pending = call(channel, Buffer.from("sleep-cancel"), { timeoutMs: 0 });
    await expect.poll(() => srv.seen.some((s) => s.request.toString() === "sleep-cancel")).toBe(true);
    pending.cancel();
    expect((await pending).status.code).toBe(Code.CANCELLED);
    const seen = srv.seen.find((s) => s.request.toString() === "sleep-cancel")!;
    await expect.poll(() => seen.cancelled()).toBe(true);
  });

  it("answers UNIMPLEMENTED for a method the server does not have", async () => {
    const r = await call(channel, Buffer.from("x"), { path: "/test.Raw/Nope" });
    expect(r.status.code).toBe(Code.UNIMPLEMENTED);
  });
});

describe("answers that are not plain gRPC (gRPC over HTTP/2 error rules)", () => {
  const CASES: Array<[string, (s: http2.ServerHttp2Stream) => void, number, RegExp]> = [
    ...(
      [
        [404, Code.UNIMPLEMENTED],
        [503, Code.UNAVAILABLE],
        [401, Code.UNAUTHENTICATED],
        [418, Code.UNKNOWN],
      ] as const
    ).map(([status, code]): [string, (s: http2.ServerHttp2Stream) => void, number, RegExp] => [
      `HTTP ${status} without grpc-status`,
      (s) => s.respond({ ":status": status }, { endStream: true }),
      code,
      new RegExp(String(status)),
    ]),
    [
      "a content-type that is not gRPC",
      (s) =>
        s.respond({ ":status": 200, "content-type": "text/html", "grpc-status": "0" }, { endStream: true }),
      Code.UNKNOWN,
      /text\/html/,
    ],
    [
      "trailers without grpc-status",
      (s) => {
        s.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        s.on("wantTrailers", () => s.sendTrailers({ "x-other": "1" }));
        s.end(frameOf(Buffer.from("a")));
      },
      Code.UNKNOWN,
      /grpc-status/,
    ],
    ["no message with status OK", (s) => okAnswer(s, []), Code.INTERNAL, /no response message/],
    [
      "two messages for a unary method",
      (s) => okAnswer(s, [frameOf(Buffer.from("a")), frameOf(Buffer.from("b"))]),
      Code.INTERNAL,
      /more than one/,
    ],
    [
      "a compressed message nobody asked for",
      (s) => okAnswer(s, [frameOf(Buffer.from("a"), 1)]),
      Code.INTERNAL,
      /compressed/,
    ],
    [
      "a truncated message",
      (s) => okAnswer(s, [frameOf(Buffer.from("abc")).subarray(0, 6)]),
      Code.INTERNAL,
      /truncated/,
    ],
    [
      "a message, then a truncated one",
      (s) => okAnswer(s, [frameOf(Buffer.from("a")), frameOf(Buffer.from("abc")).subarray(0, 6)]),
      Code.INTERNAL,
      /truncated gRPC message$/,
    ],
    [
      "DATA shorter than a message prefix",
      (s) => okAnswer(s, [Buffer.from([0, 0])]),
      Code.INTERNAL,
      /truncated gRPC message frame/,
    ],
    [
      "status OK with a grpc-message",
      (s) => {
        s.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        s.on("wantTrailers", () => s.sendTrailers({ "grpc-status": "0", "grpc-message": "all%20fine" }));
        s.end(frameOf(Buffer.from("a")));
      },
      Code.OK,
      /^all fine$/,
    ],
    [
      "a reset with INTERNAL_ERROR",
      (s) => s.close(http2.constants.NGHTTP2_INTERNAL_ERROR),
      Code.INTERNAL,
      /reset/,
    ],
    ["a reset with CANCEL", (s) => s.close(http2.constants.NGHTTP2_CANCEL), Code.CANCELLED, /reset/],
    [
      "a reset with ENHANCE_YOUR_CALM",
      (s) => s.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM),
      Code.RESOURCE_EXHAUSTED,
      /reset/,
    ],
    [
      "trailers-only with a status",
      (s) =>
        s.respond(
          {
            ":status": 200,
            "content-type": "application/grpc",
            "grpc-status": "7",
            "grpc-message": "go%20away",
          },
          { endStream: true },
        ),
      Code.PERMISSION_DENIED,
      /^go away$/,
    ],
  ];

  let answer: (s: http2.ServerHttp2Stream) => void = () => undefined;
  let h2: Awaited<ReturnType<typeof h2Server>>;
  let channel: Channel;
  beforeAll(async () => {
    h2 = await h2Server((s) => answer(s));
    channel = new Channel(`127.0.0.1:${h2.port}`, FAST);
  });
  afterAll(() => {
    channel.close();
    h2.server.close();
  });

  it.each(CASES)("%s", async (_name, respond, code, details) => {
    answer = respond;
    const r = await call(channel, Buffer.from("x"));
    expect(r.status.code).toBe(code);
    expect(r.status.details).toMatch(details);
  });
});

describe("connection management", () => {
  it("sends a refused stream again, transparently", async () => {
    const h2 = await h2Server((s, _h, n) => {
      if (n === 0) s.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      else okAnswer(s, [frameOf(Buffer.from("second try"))]);
    });
    const channel = new Channel(`127.0.0.1:${h2.port}`, FAST);
    try {
      const r = await call(channel, Buffer.from("x"));
      expect(r.status.code).toBe(Code.OK);
      expect(r.message?.toString()).toBe("second try");
    } finally {
      channel.close();
      h2.server.close();
    }
  });

  it("waits for a stream slot when the server allows one stream at a time", async () => {
    const h2 = await h2Server((s) => setTimeout(() => okAnswer(s, [frameOf(Buffer.from("ok"))]), 20), {
      maxConcurrentStreams: 1,
    });
    const channel = new Channel(`127.0.0.1:${h2.port}`, FAST);
    try {
      const results = await Promise.all(Array.from({ length: 8 }, () => call(channel, Buffer.from("x"))));
      for (const r of results) expect(r.status.code).toBe(Code.OK);
    } finally {
      channel.close();
      h2.server.close();
    }
  });

  it("fails a call whose response headers pass the limit, and keeps the connection for the next", async () => {
    // 40 KB of header: more than one frame, so it comes as HEADERS + CONTINUATION
    const h2 = await h2Server((s, _h, n) => {
      if (n === 0) {
        s.respond({ ":status": 200, "content-type": "application/grpc", "x-big": "b".repeat(40_000) });
        s.end();
      } else okAnswer(s, [frameOf(Buffer.from("small"))]);
    });
    const channel = new Channel(`127.0.0.1:${h2.port}`, { ...FAST, maxHeaderListSize: 16 * 1024 });
    try {
      const big = await call(channel, Buffer.from("x"));
      expect(big.status.code).toBe(Code.RESOURCE_EXHAUSTED);
      expect(big.status.details).toMatch(/response headers are too large/);
      const next = await call(channel, Buffer.from("y"));
      expect(next.status.code).toBe(Code.OK);
      expect(next.message?.toString()).toBe("small");
      expect(h2.connections()).toBe(1); // the HPACK state stayed in step: no reconnect was needed
    } finally {
      channel.close();
      h2.server.close();
    }
  });

  it("holds calls while the server allows no stream at all, until its deadline or a new limit", async () => {
    const h2 = await h2Server((s) => okAnswer(s, [frameOf(Buffer.from("ok"))]), { maxConcurrentStreams: 0 });
    const channel = new Channel(`127.0.0.1:${h2.port}`, FAST);
    try {
      const held = await call(channel, Buffer.from("x"), { timeoutMs: 150 });
      expect(held.status.code).toBe(Code.DEADLINE_EXCEEDED);
      const later = call(channel, Buffer.from("y"));
      await new Promise((r) => setTimeout(r, 100));
      expect(h2.streams()).toBe(0); // nothing was opened past the limit
      for (const s of h2.sessions) s.settings({ maxConcurrentStreams: 4 });
      const r = await later;
      expect(r.status.code).toBe(Code.OK);
      expect(h2.streams()).toBe(1); // the call that timed out was never sent
    } finally {
      channel.close();
      h2.server.close();
    }
  });

  it("moves to a new connection when a connection's stream ids are used up", async () => {
    const h2 = await h2Server((s) => okAnswer(s, [frameOf(Buffer.from(String(s.id)))]));
    const channel = new Channel(`127.0.0.1:${h2.port}`, FAST);
    try {
      expect((await call(channel, Buffer.from("a"))).message?.toString()).toBe("1");
      // 2^30 calls would take hours: jump to the last id a client may use (ids may skip, RFC 9113 5.1.1).
      const session = channel.pick() as unknown as { nextId: number };
      session.nextId = 0x7fffffff;
      expect((await call(channel, Buffer.from("b"))).message?.toString()).toBe(String(0x7fffffff));
      const next = await call(channel, Buffer.from("c"));
      expect(next.status.code).toBe(Code.OK);
      expect(next.message?.toString()).toBe("1"); // the first stream of a new connection
      expect(h2.connections()).toBe(2);
    } finally {
      channel.close();
      h2.server.close();
    }
  });

  it("finishes calls in flight when the server drains with GOAWAY, and opens a new connection", async () => {
    let drained = false;
    const h2 = await h2Server((s, _h, n) => {
      if (n === 0) {
        // answer the first call, but only after telling the client this connection is going away
        s.session?.goaway(http2.constants.NGHTTP2_NO_ERROR, s.id!);
        drained = true;
        setTimeout(() => okAnswer(s, [frameOf(Buffer.from("first"))]), 50);
      } else okAnswer(s, [frameOf(Buffer.from(`later ${n}`))]);
    });
    const channel = new Channel(`127.0.0.1:${h2.port}`, FAST);
    try {
      const first = await call(channel, Buffer.from("x"));
      expect(first.message?.toString()).toBe("first");
      expect(drained).toBe(true);
      const later = await call(channel, Buffer.from("x"));
      expect(later.status.code).toBe(Code.OK);
      expect(later.message?.toString()).toMatch(/^later/);
    } finally {
      channel.close();
      h2.server.close();
    }
  });

  it("gives up a connection whose server stops answering (keepalive ping)", async () => {
    // Speaks just enough HTTP/2 (an empty SETTINGS frame), then reads and says nothing more.
    const silent = net.createServer((socket) => {
      socket.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]));
      socket.on("data", () => undefined);
      socket.on("error", () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as net.AddressInfo).port;
    const channel = new Channel(`127.0.0.1:${port}`, { ...FAST, keepaliveMs: 100, keepaliveTimeoutMs: 100 });
    try {
      const r = await call(channel, Buffer.from("x"), { timeoutMs: 0 }); // no deadline: only keepalive ends it
      expect(r.status.code).toBe(Code.UNAVAILABLE);
      expect(r.status.details).toMatch(/keepalive/);
    } finally {
      channel.close();
      silent.close();
    }
  });

  it("fails fast while the backend is down and recovers when it is back on the same port", async () => {
    const first = await grpcServer();
    const port = first.port;
    const channel = new Channel(`127.0.0.1:${port}`, FAST);
    try {
      expect((await call(channel, Buffer.from("a"))).status.code).toBe(Code.OK);
      stop(first.server);
      await expect
        .poll(async () => (await call(channel, Buffer.from("b"))).status.code)
        .toBe(Code.UNAVAILABLE);
      const down = await call(channel, Buffer.from("c"));
      expect(down.status.details).toMatch(new RegExp(`127.0.0.1:${port}`));
      const second = await grpcServer(undefined, `127.0.0.1:${port}`);
      try {
        await expect
          .poll(async () => (await call(channel, Buffer.from("d"))).status.code, {
            timeout: 15_000,
            interval: 200,
          })
          .toBe(Code.OK);
      } finally {
        stop(second.server);
      }
    } finally {
      channel.close();
    }
  });

  it("answers UNAVAILABLE when nothing listens", async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const channel = new Channel(`127.0.0.1:${port}`, FAST);
    try {
      const r = await call(channel, Buffer.from("x"));
      expect(r.status.code).toBe(Code.UNAVAILABLE);
      expect(r.status.details).toMatch(/ECONNREFUSED/);
    } finally {
      channel.close();
    }
  });

  it("spreads calls round robin over the addresses of a list", async () => {
    const a = await grpcServer();
    const b = await grpcServer();
    const channel = new Channel(`ipv4:127.0.0.1:${a.port},127.0.0.1:${b.port}`, FAST);
    try {
      // the first calls may all go to whichever connects first; once both are up, both get calls
      await expect
        .poll(async () => {
          await Promise.all(Array.from({ length: 10 }, () => call(channel, Buffer.from("x"))));
          return a.seen.length > 0 && b.seen.length > 0;
        })
        .toBe(true);
      const before = [a.seen.length, b.seen.length];
      await Promise.all(Array.from({ length: 100 }, () => call(channel, Buffer.from("x"))));
      expect(a.seen.length - before[0]!).toBe(50);
      expect(b.seen.length - before[1]!).toBe(50);
    } finally {
      channel.close();
      stop(a.server);
      stop(b.server);
    }
  });

  it("resolves host names (localhost) and connects over a Unix socket", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pg-uds-"));
    const tcp = await grpcServer();
    const uds = await grpcServer(undefined, `unix:${dir}/backend.sock`);
    const byName = new Channel(`localhost:${tcp.port}`, FAST);
    const bySocket = new Channel(`unix:${dir}/backend.sock`, FAST);
    try {
      const viaName = await call(byName, Buffer.from("name"));
      const viaSocket = await call(bySocket, Buffer.from("socket"));
      expect([viaName.status.code, viaSocket.status.code]).toEqual([Code.OK, Code.OK]);
      expect(uds.seen.at(-1)!.request.toString()).toBe("socket");
    } finally {
      byName.close();
      bySocket.close();
      stop(tcp.server);
      stop(uds.server);
    }
  });
});

describe("TLS backends", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "pg-tls-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        `${dir}/key.pem`,
        "-out",
        `${dir}/cert.pem`,
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost",
      ],
      { stdio: "ignore" },
    );
  });

  it("speaks gRPC over TLS (ALPN h2) and checks the certificate", async () => {
    const cert = readFileSync(`${dir}/cert.pem`);
    const key = readFileSync(`${dir}/key.pem`);
    const srv = await grpcServer(
      undefined,
      "127.0.0.1:0",
      grpc.ServerCredentials.createSsl(null, [{ private_key: key, cert_chain: cert }]),
    );
    const trusted = new Channel(`tls://localhost:${srv.port}`, { ...FAST, tls: { ca: cert } });
    const untrusted = new Channel(`tls://localhost:${srv.port}`, FAST);
    try {
      const ok = await call(trusted, Buffer.from("secure"));
      expect(ok.status.code).toBe(Code.OK);
      expect(ok.message?.toString()).toBe("secure");
      const refused = await call(untrusted, Buffer.from("x"));
      expect(refused.status.code).toBe(Code.UNAVAILABLE);
      expect(refused.status.details).toMatch(/certificate/i);
    } finally {
      trusted.close();
      untrusted.close();
      stop(srv.server);
    }
  });
});

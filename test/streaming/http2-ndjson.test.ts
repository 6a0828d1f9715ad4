import { mkdtempSync, rmSync } from "node:fs";
import { type ClientHttp2Session, type ClientHttp2Stream, connect } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/server/gateway.js";
import { writeCert } from "../edge/certs.js";
import { STREAM_PROTOS, type StreamServer, startStreamServer } from "./server.js";

// NDJSON both ways over HTTP/2 (issue #14 item 6, "for clients that can do full duplex"): a node:http2
// client on the public listener, cleartext with prior knowledge (h2c) and TLS with h2 by ALPN.

let backend: StreamServer;
let dir: string;
const gateways: Gateway[] = [];

beforeAll(async () => {
  backend = await startStreamServer();
  dir = mkdtempSync(join(tmpdir(), "protogate-h2-ndjson-"));
  writeCert(dir, "h2-ndjson");
});
afterAll(async () => {
  for (const g of gateways) await g.close();
  await backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

const LISTENERS = [
  ["h2c", () => ({ http2: "h2c" as const })],
  [
    "TLS (h2 by ALPN)",
    () => ({ http2: true, tls: { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") } }),
  ],
] as const;

async function session(listener: (typeof LISTENERS)[number][1]): Promise<ClientHttp2Session> {
  const gateway = await createGateway({
    protos: [STREAM_PROTOS],
    port: 0,
    logLevel: false,
    defaultBackend: backend.address,
    ...listener(),
  });
  gateways.push(gateway);
  const url = await gateway.listen();
  const s = connect(url, { rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => s.once("connect", () => resolve()).once("error", reject));
  return s;
}

/** Reads a stream's body line by line: `line()` resolves to the next complete line as soon as it came. */
function lines(stream: ClientHttp2Stream): { line(): Promise<string>; rest(): Promise<string> } {
  let buffered = "";
  let ended = false;
  let wake: (() => void) | undefined;
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buffered += chunk;
    wake?.();
  });
  stream.on("end", () => {
    ended = true;
    wake?.();
  });
  const until = async (ready: () => boolean): Promise<void> => {
    while (!ready() && !ended) await new Promise<void>((r) => (wake = r));
  };
  return {
    async line() {
      await until(() => buffered.includes("\n"));
      const i = buffered.indexOf("\n");
      if (i === -1) throw new Error(`the stream ended without a line; left: ${JSON.stringify(buffered)}`);
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      return line;
    },
    async rest() {
      await until(() => false);
      return buffered;
    },
  };
}

const NDJSON = { ":method": "POST", "content-type": "application/x-ndjson" };

describe.each(LISTENERS)("NDJSON over HTTP/2, %s", (_name, listener) => {
  it("should answer a bidi stream message by message while the request is open (full duplex)", async () => {
    const s = await session(listener);
    try {
      const stream = s.request({
        ...NDJSON,
        ":path": "/v1/chat",
        accept: "application/x-ndjson",
        te: "trailers",
      });
      const response = new Promise<Record<string, unknown>>((r) => stream.once("response", r));
      const trailers = new Promise<Record<string, unknown>>((r) => stream.once("trailers", r));
      const read = lines(stream);
      // write one, read its answer, write the next: each answer comes back before the next is written
      stream.write('{"name":"one","qty":1}\n');
      expect(await read.line()).toBe('{"name":"re: one","qty":2}');
      stream.write('{"name":"two"}\n');
      expect(await read.line()).toBe('{"name":"re: two","qty":1}');
      stream.write('{"name":"three","qty":41}\n');
      expect(await read.line()).toBe('{"name":"re: three","qty":42}');
      stream.end(); // half-close: the backend ends its side, the end record follows
      expect(await read.rest()).toBe('{"end":{"trailers":{}}}\n');
      const headers = await response;
      expect(headers[":status"]).toBe(200);
      expect(headers["content-type"]).toBe("application/x-ndjson");
      expect(await trailers).toMatchObject({ "grpc-status": "0" }); // HTTP/2 trailers, as TE asked
    } finally {
      s.close();
    }
  });

  it("should end a bidi stream with an error record when the backend fails mid-stream", async () => {
    const s = await session(listener);
    try {
      const stream = s.request({ ...NDJSON, ":path": "/v1/chat" });
      const read = lines(stream);
      stream.write('{"name":"one"}\n');
      expect(await read.line()).toBe('{"name":"re: one","qty":1}');
      stream.write('{"name":"fail"}\n');
      expect(await read.line()).toBe('{"error":{"code":9,"message":"asked to fail","details":[]}}');
      stream.end();
      expect(await read.rest()).toBe("");
    } finally {
      s.close();
    }
  });

  it("should send a client stream line by line and answer its single response", async () => {
    const s = await session(listener);
    try {
      const stream = s.request({ ...NDJSON, ":path": "/v1/items:upload" });
      const response = new Promise<Record<string, unknown>>((r) => stream.once("response", r));
      const read = lines(stream);
      for (const name of ["a", "b", "c"]) stream.write(`{"name":"${name}"}\n`);
      stream.end('{"name":"d","qty":2}'); // the last line needs no newline
      expect(JSON.parse(await read.rest())).toEqual({ count: 4, names: ["a", "b", "c", "d"] });
      expect((await response)[":status"]).toBe(200);
    } finally {
      s.close();
    }
  });

  it("should answer 400 to a client stream with a bad line before any answer", async () => {
    const s = await session(listener);
    try {
      const stream = s.request({ ...NDJSON, ":path": "/v1/items:upload" });
      const response = new Promise<Record<string, unknown>>((r) => stream.once("response", r));
      const read = lines(stream);
      stream.end('{"name":"a"}\n{"name":\n');
      expect((await response)[":status"]).toBe(400);
      expect(JSON.parse(await read.rest())).toMatchObject({ code: 3 });
    } finally {
      s.close();
    }
  });
});

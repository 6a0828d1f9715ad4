import * as http2 from "node:http2";
import type * as net from "node:net";
import * as grpc from "@grpc/grpc-js";
import { Metadata } from "../../src/upstream/call-metadata.js";
import {
  type Channel,
  type ChannelOptions,
  DEFAULT_CHANNEL_OPTIONS,
} from "../../src/upstream/grpc/channel.js";
import { callUnary, type UnaryResult } from "../../src/upstream/grpc/unary.js";
import { MESSAGE_PREFIX } from "../../src/upstream/grpc/wire.js";

/**
 * Servers and a call helper for the tests of the gateway's own HTTP/2 gRPC client: grpc-js (an
 * independent implementation) for the protocol as a whole, node:http2 servers for the edge cases a
 * gRPC server library will not produce on purpose (odd statuses, resets, GOAWAY, small limits).
 */

const raw = (b: Buffer): Buffer => b;
export const METHOD = {
  path: "/test.Raw/Echo",
  requestStream: false,
  responseStream: false,
  requestSerialize: raw,
  requestDeserialize: raw,
  responseSerialize: raw,
  responseDeserialize: raw,
};
export type Unary = grpc.handleUnaryCall<Buffer, Buffer>;

export interface RawServer {
  port: number;
  server: grpc.Server;
  seen: Array<{
    request: Buffer;
    metadata: grpc.Metadata;
    deadline: grpc.Deadline;
    cancelled: () => boolean;
  }>;
}

/** A grpc-js server whose one method runs `handler` (default: echo the bytes, with metadata back). */
export async function grpcServer(
  handler?: Unary,
  bind = "127.0.0.1:0",
  creds?: grpc.ServerCredentials,
): Promise<RawServer> {
  const server = new grpc.Server();
  const seen: RawServer["seen"] = [];
  server.addService({ Echo: METHOD } as unknown as grpc.ServiceDefinition, {
    Echo: ((call, callback) => {
      let cancelled = false;
      call.on("cancelled", () => {
        cancelled = true;
      });
      seen.push({
        request: call.request,
        metadata: call.metadata,
        deadline: call.getDeadline(),
        cancelled: () => cancelled,
      });
      if (handler) return handler(call, callback);
      const headers = new grpc.Metadata();
      headers.set("x-echo", String(call.metadata.get("x-in")[0] ?? ""));
      call.sendMetadata(headers);
      const trailers = new grpc.Metadata();
      trailers.set("x-trailer", "t");
      callback(null, call.request, trailers);
    }) as Unary,
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(bind, creds ?? grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { port, server, seen };
}

export function call(
  channel: Channel,
  request: Buffer,
  opts: { metadata?: Metadata; timeoutMs?: number; path?: string } = {},
): Promise<UnaryResult> & { cancel: () => void } {
  let cancel = (): void => undefined;
  const p = new Promise<UnaryResult>((resolve) => {
    cancel = callUnary(
      channel,
      opts.path ?? METHOD.path,
      Buffer.concat([Buffer.alloc(MESSAGE_PREFIX), request]), // room for the prefix the call writes
      opts.metadata ?? new Metadata(),
      opts.timeoutMs ?? 5000,
      resolve,
    );
  });
  return Object.assign(p, { cancel });
}

export const FAST: ChannelOptions = { ...DEFAULT_CHANNEL_OPTIONS, connectTimeoutMs: 2000 };
export const stop = (s: grpc.Server): void => s.forceShutdown();

/** A node:http2 server that answers every stream with `respond`. */
export async function h2Server(
  respond: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, n: number) => void,
  settings: http2.Settings = {},
): Promise<{
  port: number;
  server: http2.Http2Server;
  sessions: Set<http2.ServerHttp2Session>;
  /** Streams and connections the server has seen. */
  streams: () => number;
  connections: () => number;
}> {
  const server = http2.createServer({ settings });
  const sessions = new Set<http2.ServerHttp2Session>();
  let connections = 0;
  server.on("session", (s) => {
    connections++;
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  let n = 0;
  server.on("stream", (stream, headers) => {
    const i = n++;
    stream.on("error", () => undefined);
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => respond(stream as http2.ServerHttp2Stream, headers, i));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    server,
    sessions,
    streams: () => n,
    connections: () => connections,
  };
}

export const frameOf = (msg: Buffer, compressed = 0): Buffer => {
  const b = Buffer.alloc(5 + msg.length);
  b[0] = compressed;
  b.writeUInt32BE(msg.length, 1);
  msg.copy(b, 5);
  return b;
};

export function okAnswer(stream: http2.ServerHttp2Stream, body: Buffer[]): void {
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
  for (const b of body) stream.write(b);
  stream.end();
}

import { request } from "node:http";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { GatewayOptions } from "../../src/config/options.js";
import { createGateway, type Gateway } from "../../src/server/gateway.js";
import { BUILTIN_PROTOS } from "../helpers/echo-server.js";
import { STREAM_PROTOS } from "./server.js";

// A grpc-js backend of the streaming test service whose next calls can be told to fail, for the tests
// of streams through the interceptors (retry, breaker, metrics, tracing) and of shutdown.

const definition = protoLoader.loadSync("streamtest/v1/streams.proto", {
  includeDirs: [STREAM_PROTOS, BUILTIN_PROTOS],
  keepCase: true,
  longs: Number,
  defaults: false,
});
const pkg = grpc.loadPackageDefinition(definition) as unknown as {
  streamtest: { v1: { Streams: grpc.ServiceClientConstructor } };
};

/** How the next calls fail: `code` after `afterMessages` response messages. */
export interface Failure {
  readonly code: number;
  readonly afterMessages: number;
}

/** One call the server received. */
export interface Received {
  readonly method: "Watch" | "Chat" | "Upload";
  readonly metadata: Record<string, string>;
  /** How it ended on the server: "ok", "failed", or "cancelled" by the gateway. */
  end?: "ok" | "failed" | "cancelled";
}

export interface FlakyServer {
  readonly address: string;
  readonly calls: Received[];
  /** The next `n` calls (of any method) fail as `failure` says. */
  failNext(n: number, failure: Failure): void;
  close(): Promise<void>;
}

/**
 * Watch sends `count` events, each after `gap_ms` (forever with `forever: true`), then ends OK; Chat answers
 * each item; Upload counts them. A call told to fail sends `afterMessages` events first.
 */
export async function startFlakyServer(): Promise<FlakyServer> {
  const server = new grpc.Server();
  const calls: Received[] = [];
  const failures: Failure[] = [];
  const receive = (method: Received["method"], md: grpc.Metadata): Received => {
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(md.getMap())) metadata[k] = String(v);
    const r: Received = { method, metadata };
    calls.push(r);
    return r;
  };
  server.addService(pkg.streamtest.v1.Streams.service, {
    Watch(
      call: grpc.ServerWritableStream<
        { name?: string; count?: number; forever?: boolean; gap_ms?: number },
        unknown
      >,
    ) {
      const r = receive("Watch", call.metadata);
      const failure = failures.shift();
      const { name = "", count = 0, forever = false, gap_ms = 0 } = call.request;
      let i = 0;
      let over = false;
      call.on("cancelled", () => {
        over = true;
        r.end ??= "cancelled";
      });
      const next = (): void => {
        if (over) return;
        if (failure && i === failure.afterMessages) {
          over = true;
          r.end = "failed";
          return void call.emit("error", { code: failure.code, details: `failed after ${i}` });
        }
        if (!failure && !forever && i === count) {
          over = true;
          r.end = "ok";
          return void call.end();
        }
        i++;
        call.write({ seq: i, name }, () => setTimeout(next, gap_ms));
      };
      if (gap_ms > 0) setTimeout(next, gap_ms);
      else next();
    },
    Chat(call: grpc.ServerDuplexStream<{ name?: string }, unknown>) {
      const r = receive("Chat", call.metadata);
      const failure = failures.shift();
      call.on("cancelled", () => {
        r.end = "cancelled"; // grpc-js may have ended the reading side first
      });
      if (failure) {
        r.end = "failed";
        return void call.emit("error", { code: failure.code, details: "failed at once" });
      }
      call.on("data", (item: { name?: string }) => call.write({ name: `re: ${item.name}` }));
      call.on("end", () => {
        r.end = "ok";
        call.end();
      });
    },
    Upload(call: grpc.ServerReadableStream<{ name?: string }, unknown>, cb: grpc.sendUnaryData<unknown>) {
      receive("Upload", call.metadata);
      let n = 0;
      call.on("data", () => n++);
      call.on("end", () => cb(null, { count: n }));
      call.on("error", () => undefined);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    calls,
    failNext(n, failure) {
      for (let k = 0; k < n; k++) failures.push(failure);
    },
    close: () =>
      new Promise<void>((resolve) => server.tryShutdown(() => resolve())).then(() => server.forceShutdown()),
  };
}

/** A gateway for the streaming test service in front of `backend`, with more options. */
export async function flakyGateway(
  backend: string,
  options: Partial<GatewayOptions> = {},
): Promise<{ gateway: Gateway; url: string }> {
  const gateway = await createGateway({
    protos: [STREAM_PROTOS],
    port: 0,
    logLevel: false,
    defaultBackend: backend,
    ...options,
  });
  return { gateway, url: await gateway.listen() };
}

/** A streamed answer read as it comes, over node:http (one connection, closed by `destroy`). */
export interface LiveStream {
  readonly status: Promise<number>;
  /** What came so far. */
  text(): string;
  /** Resolves once `needle` has come. */
  until(needle: string): Promise<void>;
  /** The whole body, once the server ended it. */
  readonly ended: Promise<string>;
  /** The client goes away. */
  destroy(): void;
}

export function openLive(url: string, path: string, headers: Record<string, string> = {}): LiveStream {
  let text = "";
  const waiters: Array<() => void> = [];
  let setStatus: (n: number) => void = () => undefined;
  let setEnded: (s: string) => void = () => undefined;
  const status = new Promise<number>((r) => (setStatus = r));
  const ended = new Promise<string>((r) => (setEnded = r));
  const req = request(url + path, { headers, agent: false }, (res) => {
    setStatus(res.statusCode ?? 0);
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      text += chunk;
      for (const w of waiters.splice(0)) w();
    });
    res.on("end", () => setEnded(text));
  });
  req.on("error", () => undefined);
  req.end();
  return {
    status,
    text: () => text,
    async until(needle) {
      while (!text.includes(needle)) await new Promise<void>((r) => waiters.push(r));
    },
    ended,
    destroy: () => req.destroy(),
  };
}

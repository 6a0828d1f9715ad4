import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { BUILTIN_PROTOS } from "../helpers/echo-server.js";

// A grpc-js backend of streaming methods for the REST streaming tests (issue #14).

export const STREAM_PROTOS = fileURLToPath(new URL("./protos", import.meta.url));

const definition = protoLoader.loadSync("streamtest/v1/streams.proto", {
  includeDirs: [STREAM_PROTOS, BUILTIN_PROTOS],
  keepCase: true,
  longs: Number,
  defaults: false,
});
const pkg = grpc.loadPackageDefinition(definition) as unknown as {
  streamtest: { v1: { Streams: grpc.ServiceClientConstructor } };
};

interface WatchRequest {
  name?: string;
  count?: number;
  fail_after?: number;
  fail_code?: number;
  pad?: number;
  forever?: boolean;
  gap_ms?: number;
  headers_first?: boolean;
}

export interface StreamServer {
  address: string;
  /** Streams the server has open now (started, not ended or cancelled). */
  open(): number;
  /** Streams started in all. */
  started(): number;
  /** Events written by Watch (counted when grpc-js took them). */
  written(): number;
  /** Metadata of the last call. */
  lastMetadata(): grpc.Metadata | undefined;
  close(): Promise<void>;
}

export async function startStreamServer(): Promise<StreamServer> {
  const server = new grpc.Server();
  let open = 0;
  let started = 0;
  let written = 0;
  let lastMd: grpc.Metadata | undefined;
  const track = (
    call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
  ) => {
    started++;
    open++;
    lastMd = call.metadata;
    let done = false;
    const close = (): void => {
      if (!done) open--;
      done = true;
    };
    call.on("cancelled", close);
    call.on("finish", close);
    call.on("close", close);
    call.on("error", close);
  };
  server.addService(pkg.streamtest.v1.Streams.service, {
    Watch(call: grpc.ServerWritableStream<WatchRequest, unknown>) {
      track(call);
      const r = call.request;
      const headers = new grpc.Metadata();
      headers.set("x-watch", r.name ?? "");
      const lastEventId = String(call.metadata.get("last-event-id")[0] ?? "");
      const pad = "x".repeat(r.pad ?? 0);
      // fail_code set: fail after fail_after events (0: at once, trailers only)
      const failAfter = r.fail_code ? (r.fail_after ?? 0) : -1;
      let i = 0;
      let cancelled = false;
      call.on("cancelled", () => {
        cancelled = true;
      });
      const fail = (): void => {
        const md = new grpc.Metadata();
        md.set("x-why", "asked");
        call.emit("error", { code: r.fail_code, details: `failed after ${i}`, metadata: md });
      };
      if (failAfter === 0) {
        if (r.headers_first) call.sendMetadata(headers);
        return void fail();
      }
      call.sendMetadata(headers);
      const next = (): void => {
        if (cancelled) return;
        if (failAfter > 0 && i === failAfter) return void fail();
        if (!r.forever && i === (r.count ?? 0)) {
          const trailers = new grpc.Metadata();
          trailers.set("x-total", String(i));
          call.end(trailers);
          return;
        }
        i++;
        const event = { seq: i, name: r.name, pad, last_event_id: lastEventId };
        // the next write from the previous one's callback: as fast as flow control lets it
        call.write(event, () => {
          written++;
          if (r.gap_ms) setTimeout(next, r.gap_ms);
          else if (r.forever && !r.pad) setTimeout(next, 2);
          else next();
        });
      };
      if (r.gap_ms) setTimeout(next, r.gap_ms);
      else next();
    },
    Upload(call: grpc.ServerReadableStream<{ name?: string }, unknown>, cb: grpc.sendUnaryData<unknown>) {
      started++;
      lastMd = call.metadata;
      const names: string[] = [];
      call.on("data", (item: { name?: string }) => names.push(item.name ?? ""));
      call.on("end", () => cb(null, { count: names.length, names }));
      call.on("error", () => undefined);
    },
    Chat(call: grpc.ServerDuplexStream<{ name?: string; qty?: number }, unknown>) {
      track(call);
      call.on("data", (item: { name?: string; qty?: number }) => {
        if (item.name === "fail") {
          call.emit("error", { code: grpc.status.FAILED_PRECONDITION, details: "asked to fail" });
          return;
        }
        call.write({ name: `re: ${item.name}`, qty: (item.qty ?? 0) + 1 });
      });
      call.on("end", () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    open: () => open,
    started: () => started,
    written: () => written,
    lastMetadata: () => lastMd,
    close: () =>
      new Promise<void>((resolve) => server.tryShutdown(() => resolve())).then(() => server.forceShutdown()),
  };
}

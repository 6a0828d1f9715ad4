import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import protobuf from "protobufjs";

/**
 * A real gRPC server for the tests, decoding with @grpc/proto-loader (an implementation independent of
 * protogate's codec). Echo methods answer with the request; every call is recorded.
 */

export const TEST_PROTOS = fileURLToPath(new URL("../protos", import.meta.url));
export const BUILTIN_PROTOS = fileURLToPath(new URL("../../protos-builtin", import.meta.url));
const BUILTIN = BUILTIN_PROTOS;

export interface RecordedCall {
  method: string;
  request: Record<string, unknown>;
  metadata: Record<string, string[]>;
  /** The call's deadline as the server saw it (ms since the epoch; Infinity when none). */
  deadline?: number;
}

export interface EchoServer {
  address: string;
  calls: RecordedCall[];
  last(): RecordedCall;
  close(): Promise<void>;
}

const definition = protoLoader.loadSync("test/v1/kitchen.proto", {
  includeDirs: [TEST_PROTOS, BUILTIN],
  keepCase: true,
  longs: String,
  enums: String,
  bytes: String,
  oneofs: true,
});
const pkg = grpc.loadPackageDefinition(definition) as unknown as {
  test: { v1: { EchoService: grpc.ServiceClientConstructor } };
};

const rpcRoot = new protobuf.Root();
rpcRoot.resolvePath = (_o, t) => `${BUILTIN}/${t}`;
rpcRoot.loadSync(["google/rpc/status.proto", "google/rpc/error_details.proto"], { keepCase: true });

function metadataObject(md: grpc.Metadata): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, vs] of Object.entries(md.toJSON())) {
    out[k] = vs.map((v) => (typeof v === "string" ? v : v.toString("base64")));
  }
  return out;
}

export async function startEchoServer(
  opts: { reflection?: boolean | "v1alpha-only"; credentials?: grpc.ServerCredentials } = {},
): Promise<EchoServer> {
  const calls: RecordedCall[] = [];
  const server = new grpc.Server();
  const record = (method: string, call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>) => {
    const deadline = Number(call.getDeadline());
    calls.push({ method, request: call.request, metadata: metadataObject(call.metadata), deadline });
  };
  const echo =
    (method: string) =>
    (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      record(method, call);
      const headers = new grpc.Metadata();
      headers.set("x-method", method);
      call.sendMetadata(headers);
      cb(null, call.request);
    };
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const name of Object.keys(pkg.test.v1.EchoService.service)) handlers[name] = echo(name);
  handlers.Fail = (
    call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>,
    cb: grpc.sendUnaryData<unknown>,
  ) => {
    record("Fail", call);
    const { code, message, reason } = call.request as { code: number; message: string; reason: string };
    const trailers = new grpc.Metadata();
    trailers.set("x-trailer", "t1");
    if (reason) {
      const info = rpcRoot.lookupType("google.rpc.ErrorInfo");
      const status = rpcRoot.lookupType("google.rpc.Status");
      const detail = {
        type_url: "type.googleapis.com/google.rpc.ErrorInfo",
        value: info.encode({ reason, domain: "test" }).finish(),
      };
      trailers.set(
        "grpc-status-details-bin",
        Buffer.from(status.encode({ code, message, details: [detail] }).finish()),
      );
    }
    cb({ code, details: message, metadata: trailers });
  };
  handlers.Sleep = (
    call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>,
    cb: grpc.sendUnaryData<unknown>,
  ) => {
    record("Sleep", call);
    const timer = setTimeout(() => cb(null, { cancelled: false }), Number(call.request.ms));
    call.on("cancelled", () => {
      clearTimeout(timer);
      calls.push({ method: "Sleep:cancelled", request: call.request, metadata: {} });
    });
  };
  handlers.Metadata = (
    call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>,
    cb: grpc.sendUnaryData<unknown>,
  ) => {
    record("Metadata", call);
    const received: Record<string, string> = {};
    for (const [k, vs] of Object.entries(metadataObject(call.metadata))) received[k] = vs.join(", ");
    const headers = new grpc.Metadata();
    headers.set("x-header", "h1");
    headers.add("x-multi", "a");
    headers.add("x-multi", "b");
    headers.set("x-data-bin", Buffer.from([1, 2, 3]));
    call.sendMetadata(headers);
    const trailers = new grpc.Metadata();
    trailers.set("x-trailer", "t1");
    cb(null, { received }, trailers);
  };
  server.addService(pkg.test.v1.EchoService.service, handlers);
  if (opts.reflection === "v1alpha-only") {
    // an older server: only the v1alpha reflection service
    (
      new ReflectionService(definition) as unknown as { v1Alpha: { addToServer(s: grpc.Server): void } }
    ).v1Alpha.addToServer(server);
  } else if (opts.reflection) {
    new ReflectionService(definition).addToServer(server);
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", opts.credentials ?? grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    calls,
    last() {
      const c = calls[calls.length - 1];
      if (!c) throw new Error("the echo server has received no call");
      return c;
    },
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

/** A gRPC server for any proto file: every method of `service` answers with its request. */
export async function startAnyEchoServer(
  protoDir: string,
  file: string,
  service: string,
  opts: { port?: number; reflection?: boolean } = {},
): Promise<{ address: string; close: () => Promise<void> }> {
  const def = protoLoader.loadSync(file, {
    includeDirs: [protoDir, BUILTIN],
    keepCase: true,
    longs: String,
    enums: String,
  });
  const ctor = service
    .split(".")
    .reduce<unknown>(
      (o, k) => (o as Record<string, unknown>)[k],
      grpc.loadPackageDefinition(def),
    ) as grpc.ServiceClientConstructor;
  const server = new grpc.Server();
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const name of Object.keys(ctor.service)) {
    handlers[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) =>
      cb(null, call.request);
  }
  server.addService(ctor.service, handlers);
  if (opts.reflection) new ReflectionService(def).addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${opts.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    close: async () => server.forceShutdown(),
  };
}

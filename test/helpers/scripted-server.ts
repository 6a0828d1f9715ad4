import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { BUILTIN_PROTOS, TEST_PROTOS } from "./echo-server.js";

/** What a scripted method does with one call: answer (echo), fail with a status, or never answer. */
export type Behaviour =
  | { reply: "echo"; delayMs?: number; metadata?: Record<string, string> }
  | { code: grpc.status; message?: string; trailers?: Record<string, string>; delayMs?: number }
  | { hang: true };

export interface ScriptedCall {
  readonly method: string;
  readonly at: number;
  readonly metadata: Record<string, string>;
  /** The deadline the call arrived with (grpc-timeout), ms from its arrival; Infinity for none. */
  readonly timeoutMs: number;
  cancelled: boolean;
}

export interface ScriptedServer {
  address: string;
  port: number;
  calls: ScriptedCall[];
  /** What the next calls of every method do; `n` is the call's number at this server (from 1). */
  behave(f: (method: string, n: number) => Behaviour): void;
  close(): Promise<void>;
}

const definition = protoLoader.loadSync("test/v1/kitchen.proto", {
  includeDirs: [TEST_PROTOS, BUILTIN_PROTOS],
  keepCase: true,
  longs: String,
  enums: String,
  bytes: String,
  oneofs: true,
});
const service = (
  grpc.loadPackageDefinition(definition) as unknown as {
    test: { v1: { EchoService: grpc.ServiceClientConstructor } };
  }
).test.v1.EchoService.service;

/**
 * A grpc-js server of the test EchoService whose every method follows a script: for fault tests
 * (failures in trailers, hangs, pushback) with each call recorded as the backend saw it.
 */
export async function startScriptedServer(port = 0): Promise<ScriptedServer> {
  const calls: ScriptedCall[] = [];
  let script: (method: string, n: number) => Behaviour = () => ({ reply: "echo" });
  const server = new grpc.Server();
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const method of Object.keys(service)) {
    handlers[method] = (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      const metadata: Record<string, string> = {};
      for (const [k, v] of Object.entries(call.metadata.getMap())) metadata[k] = String(v);
      const deadline = call.getDeadline();
      const at = Date.now();
      const when = deadline instanceof Date ? deadline.getTime() : Number(deadline);
      const timeoutMs = Number.isFinite(when) ? when - at : Number.POSITIVE_INFINITY;
      const seen: ScriptedCall = { method, at, metadata, timeoutMs, cancelled: false };
      calls.push(seen);
      call.on("cancelled", () => {
        seen.cancelled = true;
      });
      const b = script(method, calls.length);
      if ("hang" in b) return;
      if ("code" in b) {
        const trailers = new grpc.Metadata();
        for (const [k, v] of Object.entries(b.trailers ?? {})) trailers.set(k, v);
        const fail = () => cb({ code: b.code, details: b.message ?? "scripted failure", metadata: trailers });
        if (b.delayMs) setTimeout(fail, b.delayMs);
        else fail();
        return;
      }
      if (b.metadata) {
        const md = new grpc.Metadata();
        for (const [k, v] of Object.entries(b.metadata)) md.set(k, v);
        call.sendMetadata(md);
      }
      setTimeout(() => cb(null, call.request), b.delayMs ?? 0);
    };
  }
  server.addService(service, handlers);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    address: `127.0.0.1:${bound}`,
    port: bound,
    calls,
    behave(f) {
      script = f;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

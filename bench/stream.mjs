// Streaming throughput (issue #14): a server stream read through protogate as NDJSON over HTTP/1.1,
// beside a direct grpc-js client reading the same stream from the same backend, in the same run.
// Small messages (~20 bytes of JSON) and 64 KiB messages. Figures: messages/s and MB/s of payload.
// Run: npm run bench:stream
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { createGateway } from "../dist/index.js";

// the streaming tests' proto: one definition for the tests and the bench
const PROTOS = fileURLToPath(new URL("../test/streaming/protos", import.meta.url));
const BUILTIN = fileURLToPath(new URL("../protos-builtin", import.meta.url));
const def = protoLoader.loadSync("streamtest/v1/streams.proto", {
  includeDirs: [PROTOS, BUILTIN],
  keepCase: true,
});
const { Streams } = grpc.loadPackageDefinition(def).streamtest.v1;

const server = new grpc.Server();
server.addService(Streams.service, {
  Watch(call) {
    const { count, pad } = call.request;
    const event = { seq: 1, name: call.request.name, pad: "x".repeat(pad) };
    let i = 0;
    const next = () => {
      while (i < count) {
        i++;
        if (!call.write(event)) return void call.once("drain", next);
      }
      call.end();
    };
    next();
  },
});
const port = await new Promise((resolve, reject) =>
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
    e ? reject(e) : resolve(p),
  ),
);
const backend = `127.0.0.1:${port}`;
const gateway = await createGateway({ protos: [PROTOS], port: 0, logLevel: false, defaultBackend: backend });
const url = await gateway.listen();
const client = new Streams(backend, grpc.credentials.createInsecure());

function viaGateway(count, pad) {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/watch/b?count=${count}&pad=${pad}`, (res) => {
      let bytes = 0;
      res.on("data", (c) => {
        bytes += c.length;
      });
      res.on("end", () => resolve(bytes));
    });
    req.on("error", reject);
    req.end();
  });
}

function direct(count, pad) {
  return new Promise((resolve, reject) => {
    let n = 0;
    const call = client.Watch({ name: "b", count, pad });
    call.on("data", () => n++);
    call.on("end", () => resolve(n));
    call.on("error", reject);
  });
}

const scenarios = [
  { name: "small", count: 50_000, pad: 0 },
  { name: "64 KiB", count: 1_000, pad: 64 * 1024 },
];
const rows = [];
for (const s of scenarios) {
  for (const [who, run] of [
    ["direct grpc-js", direct],
    ["protogate NDJSON", viaGateway],
  ]) {
    await run(Math.min(s.count, 1000), s.pad); // warm-up
    const times = [];
    for (let round = 0; round < 3; round++) {
      const t0 = process.hrtime.bigint();
      await run(s.count, s.pad);
      times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    times.sort((a, b) => a - b);
    const sec = times[1];
    const payload = s.count * (s.pad + 16);
    rows.push({
      message: s.name,
      client: who,
      "messages/s": Math.round(s.count / sec),
      "MB/s": (payload / sec / 1e6).toFixed(1),
    });
  }
}
console.table(rows);
client.close();
await gateway.close();
server.forceShutdown();

// `npm start`: the bundled bookstore gRPC service behind protogate, ready for the README's curl examples.
// PORT (default 8080) and HOST (default 127.0.0.1) choose where the gateway listens.

import { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { createGateway } from "../dist/index.js";
import { startBookstore } from "./bookstore/server.js";
import { startWorker } from "./bookstore/worker.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bookstore = await startBookstore();
const gateway = await createGateway({
  protos: [`${root}protos`],
  mappings: `${root}mappings`,
  defaultBackend: bookstore.address,
  host: process.env.HOST ?? "127.0.0.1",
  port: Number(process.env.PORT ?? 8080),
  watch: true, // drop a .proto into protos/ and it is live
  // The async ImportBooks command goes to RabbitMQ (127.0.0.1:5672, guest/guest).
  amqp: {
    brokers: { default: process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672" },
    operations: {
      store: "memory",
      redisUrl: "",
      ttlMs: 86_400_000,
      resultsExchange: "protogate.results",
      resultsQueue: "protogate.results",
    },
    confirmTimeoutMs: 5000,
  },
});
const url = await gateway.listen();
console.log(`protogate listening on ${url} (bookstore gRPC backend at ${bookstore.address})`);
console.log(`try: curl ${url}/v1/shelves/1/books`);

// The worker of the async example, when RabbitMQ is there (ASYNC_EXAMPLE=off leaves it out).
const rabbit =
  process.env.ASYNC_EXAMPLE !== "off" &&
  (await new Promise((resolve) => {
    const s = new Socket();
    s.once("error", () => resolve(false)).connect(5672, "127.0.0.1", () => {
      s.destroy();
      resolve(true);
    });
  }));
const worker = rabbit ? await startWorker({ bookstoreAddress: bookstore.address }) : undefined;
console.log(
  worker
    ? "async example: the ImportBooks worker is consuming from RabbitMQ"
    : "async example off: RabbitMQ is not on 127.0.0.1:5672 (start it with: rabbitmq-server -detached)",
);

const stop = async () => {
  await worker?.close();
  await gateway.close();
  await bookstore.close();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);

// `npm start`: the bundled bookstore gRPC service behind protogate, ready for the README's curl examples.
// PORT (default 8080) and HOST (default 127.0.0.1) choose where the gateway listens.
import { fileURLToPath } from "node:url";
import { createGateway } from "../dist/index.js";
import { startBookstore } from "./bookstore/server.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bookstore = await startBookstore();
const gateway = await createGateway({
  protos: [`${root}protos`],
  mappings: `${root}mappings`,
  defaultBackend: bookstore.address,
  host: process.env.HOST ?? "127.0.0.1",
  port: Number(process.env.PORT ?? 8080),
  watch: true, // drop a .proto into protos/ and it is live
});
const url = await gateway.listen();
console.log(`protogate listening on ${url} (bookstore gRPC backend at ${bookstore.address})`);
console.log(`try: curl ${url}/v1/shelves/1/books`);

const stop = async () => {
  await gateway.close();
  await bookstore.close();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);

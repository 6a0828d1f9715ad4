// The bundled bookstore gRPC service, alone in its process.
import { startBookstore } from "../../examples/bookstore/server.js";

const b = await startBookstore();
console.log(`backend listening on ${b.address}`);

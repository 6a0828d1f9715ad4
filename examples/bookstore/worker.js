// The bookstore's asynchronous worker: consumes ImportBooks commands that protogate publishes to
// RabbitMQ, creates the books through the bookstore's gRPC API, and reports the result on the results
// exchange (correlation_id = the operation id), where protogate records it on the operation.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import * as amqp from "amqplib";
import protobuf from "protobufjs";
import { PROTO_DIRS, resolveProto } from "./proto-dirs.js";

const root = new protobuf.Root();
root.resolvePath = resolveProto;
root.loadSync(["bookstore/v1/bookstore.proto", "google/rpc/status.proto"], { keepCase: true });
const ImportBooksRequest = root.lookupType("bookstore.v1.ImportBooksRequest");
const ImportBooksResponse = root.lookupType("bookstore.v1.ImportBooksResponse");
const Status = root.lookupType("google.rpc.Status");

/** Starts consuming; resolves to { close }. `bookstoreAddress` is the gRPC server the books go to. */
export async function startWorker({
  amqpUrl = "amqp://guest:guest@127.0.0.1:5672",
  bookstoreAddress,
  resultsExchange = "protogate.results",
}) {
  const definition = protoLoader.loadSync("bookstore/v1/bookstore.proto", {
    includeDirs: PROTO_DIRS,
    keepCase: true,
    longs: String,
  });
  const { BookstoreService } = grpc.loadPackageDefinition(definition).bookstore.v1;
  const bookstore = new BookstoreService(bookstoreAddress, grpc.credentials.createInsecure());
  const createBook = (req) =>
    new Promise((resolve, reject) =>
      bookstore.CreateBook(req, (err, book) => (err ? reject(err) : resolve(book))),
    );

  const conn = await amqp.connect(amqpUrl);
  const ch = await conn.createChannel();
  await ch.assertExchange("bookstore.commands", "topic", { durable: true });
  await ch.assertQueue("bookstore.imports", { durable: true });
  await ch.bindQueue("bookstore.imports", "bookstore.commands", "books.import.*");
  await ch.assertExchange(resultsExchange, "topic", { durable: true });
  await ch.prefetch(8);
  await ch.consume("bookstore.imports", async (msg) => {
    if (!msg) return;
    const { correlationId } = msg.properties;
    let result;
    try {
      const req = ImportBooksRequest.toObject(ImportBooksRequest.decode(msg.content), { longs: String });
      const ids = [];
      for (const book of req.books ?? []) ids.push((await createBook({ shelf_id: req.shelf_id, book })).id);
      result = {
        type: "bookstore.v1.ImportBooksResponse",
        body: ImportBooksResponse.encode({ imported: ids.length, book_ids: ids }).finish(),
      };
    } catch (err) {
      // a failed command is reported as a google.rpc.Status (the gRPC code when there is one)
      result = {
        type: "google.rpc.Status",
        body: Status.encode({ code: err.code ?? 13, message: err.details ?? err.message }).finish(),
      };
    }
    ch.publish(resultsExchange, "bookstore.imports", Buffer.from(result.body), {
      correlationId,
      type: result.type,
      contentType: "application/x-protobuf",
    });
    ch.ack(msg); // after the result is out: a crash before this redelivers the command (at-least-once)
  });
  return {
    close: async () => {
      bookstore.close();
      await conn.close().catch(() => undefined);
    },
  };
}

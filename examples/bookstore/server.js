// The bundled example service: a real gRPC server, in memory, that `npm start` puts behind protogate.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { PROTO_DIRS } from "./proto-dirs.js";
import { richError } from "./status-details.js";

const definition = protoLoader.loadSync("bookstore/v1/bookstore.proto", {
  includeDirs: PROTO_DIRS,
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
});
const { BookstoreService } = grpc.loadPackageDefinition(definition).bookstore.v1;
const { status: Status } = grpc;

const now = () => {
  const ms = Date.now();
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
};

function seed() {
  const shelves = new Map();
  const books = new Map(); // shelf id -> Map(book id -> book)
  const add = (id, theme) => {
    shelves.set(id, { id: String(id), theme, create_time: { seconds: "1700000000", nanos: 0 } });
    books.set(id, new Map());
  };
  add(1, "Fiction");
  add(2, "History");
  const put = (shelf, id, title, author, genre, tags, year) =>
    books.get(shelf).set(id, {
      id: String(id),
      name: `shelves/${shelf}/books/${id}`,
      title,
      author,
      genre,
      tags,
      publish_time: { seconds: String(Date.UTC(year, 0, 1) / 1000), nanos: 0 },
      checked_out: false,
      labels: {},
    });
  put(1, 1, "The Left Hand of Darkness", "Ursula K. Le Guin", "GENRE_FICTION", ["classic", "sf"], 1969);
  put(1, 2, "Kindred", "Octavia E. Butler", "GENRE_FICTION", ["classic"], 1979);
  put(2, 3, "The Guns of August", "Barbara W. Tuchman", "GENRE_HISTORY", [], 1962);
  return { shelves, books, nextShelf: 3, nextBook: 4 };
}

/** Offset-based paging with an opaque token. */
function page(items, size, token) {
  const pageSize = Math.min(Math.max(Number(size) || 10, 1), 100);
  const start = token ? Number(Buffer.from(token, "base64url").toString()) : 0;
  if (!Number.isInteger(start) || start < 0) return { error: "page_token is not valid" };
  const slice = items.slice(start, start + pageSize);
  const next =
    start + pageSize < items.length ? Buffer.from(String(start + pageSize)).toString("base64url") : "";
  return { slice, next };
}

function handlers() {
  const db = seed();
  // WatchShelf calls by shelf id: each hears of the books added to or removed from its shelf.
  const watchers = new Map();
  const notify = (shelfId, kind, book) => {
    for (const call of watchers.get(Number(shelfId)) ?? []) call.write({ kind, book });
  };
  const addBook = (shelfId, b) => {
    const id = db.nextBook++;
    const book = { ...b, id: String(id), name: `shelves/${shelfId}/books/${id}`, checked_out: false };
    db.books.get(Number(shelfId)).set(id, book);
    notify(shelfId, "KIND_ADDED", book);
    return book;
  };
  const shelfOr404 = (id, cb) => {
    const shelf = db.shelves.get(Number(id));
    if (!shelf) {
      cb(
        richError(Status.NOT_FOUND, `shelf ${id} not found`, [
          {
            type: "google.rpc.ResourceInfo",
            resource_type: "bookstore.v1.Shelf",
            resource_name: `shelves/${id}`,
            description: "no such shelf",
          },
        ]),
      );
    }
    return shelf;
  };
  const bookOr404 = (shelfId, bookId, cb) => {
    if (!shelfOr404(shelfId, cb)) return undefined;
    const book = db.books.get(Number(shelfId)).get(Number(bookId));
    if (!book) {
      cb(
        richError(Status.NOT_FOUND, `book ${bookId} not found on shelf ${shelfId}`, [
          {
            type: "google.rpc.ResourceInfo",
            resource_type: "bookstore.v1.Book",
            resource_name: `shelves/${shelfId}/books/${bookId}`,
            description: "no such book",
          },
        ]),
      );
    }
    return book;
  };
  return {
    ListShelves({ request }, cb) {
      const p = page([...db.shelves.values()], request.page_size, request.page_token);
      if (p.error) return cb({ code: Status.INVALID_ARGUMENT, details: p.error });
      cb(null, { shelves: p.slice, next_page_token: p.next });
    },
    CreateShelf({ request }, cb) {
      const theme = request.shelf?.theme ?? "";
      if (!theme) {
        return cb(
          richError(Status.INVALID_ARGUMENT, "a shelf needs a theme", [
            {
              type: "google.rpc.BadRequest",
              field_violations: [{ field: "shelf.theme", description: "must not be empty" }],
            },
          ]),
        );
      }
      const id = db.nextShelf++;
      const shelf = { id: String(id), theme, create_time: now() };
      db.shelves.set(id, shelf);
      db.books.set(id, new Map());
      cb(null, shelf);
    },
    GetShelf({ request }, cb) {
      const shelf = shelfOr404(request.shelf_id, cb);
      if (shelf) cb(null, shelf);
    },
    DeleteShelf({ request }, cb) {
      if (!shelfOr404(request.shelf_id, cb)) return;
      db.shelves.delete(Number(request.shelf_id));
      db.books.delete(Number(request.shelf_id));
      cb(null, {});
    },
    ListBooks({ request }, cb) {
      if (!shelfOr404(request.shelf_id, cb)) return;
      let items = [...db.books.get(Number(request.shelf_id)).values()];
      if (request.genre && request.genre !== "GENRE_UNSPECIFIED")
        items = items.filter((b) => b.genre === request.genre);
      const p = page(items, request.page_size, request.page_token);
      if (p.error) return cb({ code: Status.INVALID_ARGUMENT, details: p.error });
      cb(null, { books: p.slice, next_page_token: p.next });
    },
    CreateBook({ request }, cb) {
      if (!shelfOr404(request.shelf_id, cb)) return;
      const b = request.book ?? {};
      if (!b.title) {
        return cb(
          richError(Status.INVALID_ARGUMENT, "a book needs a title", [
            {
              type: "google.rpc.BadRequest",
              field_violations: [{ field: "book.title", description: "must not be empty" }],
            },
          ]),
        );
      }
      cb(null, addBook(request.shelf_id, b));
    },
    GetBook({ request }, cb) {
      let shelf_id = request.shelf_id;
      if (shelf_id === "0") {
        const home = [...db.books].find(([, books]) => books.has(Number(request.book_id)));
        shelf_id = home ? String(home[0]) : "0";
      }
      const book = bookOr404(shelf_id, request.book_id, cb);
      if (book) cb(null, book);
    },
    UpdateBook({ request }, cb) {
      const book = bookOr404(request.shelf_id, request.book?.id, cb);
      if (!book) return;
      const paths = request.update_mask?.paths?.length
        ? request.update_mask.paths
        : ["title", "author", "genre", "tags", "publish_time", "labels"];
      for (const p of paths) {
        if (!["title", "author", "genre", "tags", "publish_time", "labels"].includes(p)) {
          return cb({ code: Status.INVALID_ARGUMENT, details: `update_mask path "${p}" cannot be updated` });
        }
        book[p] = request.book[p];
      }
      cb(null, book);
    },
    DeleteBook({ request }, cb) {
      if (!bookOr404(request.shelf_id, request.book_id, cb)) return;
      const removed = db.books.get(Number(request.shelf_id)).get(Number(request.book_id));
      db.books.get(Number(request.shelf_id)).delete(Number(request.book_id));
      notify(request.shelf_id, "KIND_REMOVED", removed);
      cb(null, {});
    },
    CheckoutBook({ request }, cb) {
      const book = bookOr404(request.shelf_id, request.book_id, cb);
      if (!book) return;
      if (book.checked_out) {
        return cb(
          richError(Status.FAILED_PRECONDITION, `book ${request.book_id} is already checked out`, [
            {
              type: "google.rpc.ErrorInfo",
              reason: "BOOK_CHECKED_OUT",
              domain: "bookstore.example.com",
              metadata: { book: book.name },
            },
            {
              type: "google.rpc.PreconditionFailure",
              violations: [{ type: "CHECKED_OUT", subject: book.name, description: "return the book first" }],
            },
          ]),
        );
      }
      book.checked_out = true;
      cb(null, book);
    },
    ListTitles({ request }, cb) {
      if (!shelfOr404(request.shelf_id, cb)) return;
      cb(null, { titles: [...db.books.get(Number(request.shelf_id)).values()].map((b) => b.title) });
    },
    WatchShelf(call) {
      const shelfId = Number(call.request.shelf_id);
      if (!db.shelves.has(shelfId)) {
        return call.emit("error", { code: Status.NOT_FOUND, details: `shelf ${shelfId} not found` });
      }
      for (const book of db.books.get(shelfId).values()) call.write({ kind: "KIND_PRESENT", book });
      if (!call.request.follow) return call.end();
      if (!watchers.has(shelfId)) watchers.set(shelfId, new Set());
      watchers.get(shelfId).add(call);
      call.on("cancelled", () => watchers.get(shelfId)?.delete(call));
    },
    UploadBooks(call, cb) {
      const ids = [];
      let failed = false;
      call.on("data", (request) => {
        if (failed) return;
        if (!db.shelves.has(Number(request.shelf_id)) || !request.book?.title) {
          failed = true;
          const why = request.book?.title ? `shelf ${request.shelf_id} not found` : "a book needs a title";
          return cb({ code: request.book?.title ? Status.NOT_FOUND : Status.INVALID_ARGUMENT, details: why });
        }
        ids.push(addBook(request.shelf_id, request.book).id);
      });
      call.on("end", () => {
        if (!failed) cb(null, { imported: String(ids.length), book_ids: ids });
      });
    },
    GetStats(_call, cb) {
      const all = [...db.books.values()].flatMap((m) => [...m.values()]);
      cb(null, {
        shelf_count: db.shelves.size,
        book_count: all.length,
        checked_out_count: all.filter((b) => b.checked_out).length,
      });
    },
  };
}

/** Starts the bookstore on host:port (0 = a free port); resolves to { address, close }. */
export function startBookstore({ host = "127.0.0.1", port = 0 } = {}) {
  const server = new grpc.Server();
  server.addService(BookstoreService.service, handlers());
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, boundPort) => {
      if (err) return reject(err);
      resolve({
        address: `${host}:${boundPort}`,
        close: () => new Promise((done) => server.tryShutdown(() => done())),
      });
    });
  });
}

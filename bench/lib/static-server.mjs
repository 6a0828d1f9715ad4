// The upper bound: a plain Fastify route answering the same JSON a gateway route answers, no upstream.
// STATIC_HEADERS=cache-hit: the route also sends the four headers a protogate cache hit adds, with values
// as long as a hit's (x-request-id, Cache-Status with its key, Age, ETag), so that a hit can be set
// against a route that writes the same bytes (bench/README.md, "Instructions per request").
import Fastify from "fastify";

const app = Fastify({ logger: false });
const book = JSON.stringify({
  id: "2",
  name: "shelves/1/books/2",
  title: "Kindred",
  author: "Octavia E. Butler",
  genre: "GENRE_FICTION",
  tags: ["classic"],
  publishTime: "1979-01-01T00:00:00Z",
});
const mode = process.env.STATIC_HEADERS;
if (mode !== undefined && mode !== "cache-hit")
  throw new Error(`STATIC_HEADERS: "cache-hit" or unset, not "${mode}"`);
const hitHeaders = mode === "cache-hit";
// Flat strings, as the gateway's are: Node's header RegExp runs natively only on a flat string, and a
// rope made per request would charge this baseline 1.4-2.4k per header that a hit does not pay.
const flat = (text) => Buffer.from(text, "latin1").toString("latin1");
const cacheStatus = flat(
  `protogate; hit; ttl=3599; key="echo.v1.EchoService.Echo:${"0123456789abcdef".repeat(4)}"`,
);
const requestIds = Array.from({ length: 4096 }, (_, i) =>
  flat(`9170d10e-3a32-d4ac-0562-${String(i).padStart(12, "0")}`),
);
let n = 0;
app.all("/*", (_req, reply) => {
  if (hitHeaders) {
    n = (n + 1) & 4095;
    reply
      .header("x-request-id", requestIds[n])
      .header("cache-status", cacheStatus)
      .header("age", "0")
      .header("etag", '"my1Dr_v0mjZwKN8uFBT4TA"');
  }
  reply.type("application/json").send(book);
});
// PORT: a fixed port (bench/instructions/count.sh measures this server too); any free one by default
const url = await app.listen({ port: Number(process.env.PORT ?? 0), host: "127.0.0.1" });
console.log(`static listening on ${url}`);

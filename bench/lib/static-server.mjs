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
const key = `echo.v1.EchoService.Echo:${"0123456789abcdef".repeat(4)}`;
let n = 0;
app.all("/*", (_req, reply) => {
  if (hitHeaders) {
    n++;
    reply
      .header("x-request-id", `9170d10e-3a32-d4ac-0562-${String(n).padStart(12, "0")}`)
      .header("cache-status", `protogate; hit; ttl=3599; key="${key}"`)
      .header("age", "0")
      .header("etag", '"my1Dr_v0mjZwKN8uFBT4TA"');
  }
  reply.type("application/json").send(book);
});
// PORT: a fixed port (bench/instructions/count.sh measures this server too); any free one by default
const url = await app.listen({ port: Number(process.env.PORT ?? 0), host: "127.0.0.1" });
console.log(`static listening on ${url}`);

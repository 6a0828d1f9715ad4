// The upper bound: a plain Fastify route answering the same JSON a gateway route answers, no upstream.
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
app.all("/*", (_req, reply) => {
  reply.type("application/json").send(book);
});
// PORT: a fixed port (bench/instructions/count.sh measures this server too); any free one by default
const url = await app.listen({ port: Number(process.env.PORT ?? 0), host: "127.0.0.1" });
console.log(`static listening on ${url}`);

import * as amqp from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, type Spawned } from "../helpers/process.js";
import { skipUnless } from "../helpers/services.js";

/** The README's async example: `npm start` with RabbitMQ running, ImportBooks done by the example worker. */
const skip = await skipUnless("rabbitmq", 5672);

describe.skipIf(skip)("the bookstore's async ImportBooks command", () => {
  let app: Spawned;
  let base: string;
  beforeAll(async () => {
    // a backlog left in the example's durable queue (by an earlier run) would delay these commands
    const conn = await amqp.connect("amqp://guest:guest@127.0.0.1:5672");
    const ch = await conn.createChannel();
    // the queue is the worker's (durable, declared by it): declare it the same way, then empty it
    await ch.assertQueue("bookstore.imports", { durable: true });
    await ch.purgeQueue("bookstore.imports");
    await conn.close();
    app = run("node", ["examples/start.js"], { PORT: "0" });
    base = await app.url;
    for (let i = 0; i < 100 && !app.output().includes("the ImportBooks worker is consuming"); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("should answer 202 with an operation that the worker completes", async () => {
    const res = await fetch(`${base}/v1/shelves/2/books:import`, {
      method: "POST",
      body: JSON.stringify({
        books: [{ title: "Imported One" }, { title: "Imported Two", author: "Someone" }],
      }),
    });
    expect(res.status).toBe(202);
    const location = res.headers.get("location")!;
    expect(location).toMatch(/^\/v1\/operations\/[0-9a-f-]{36}$/);
    await expect
      .poll(
        async () =>
          (await (await fetch(base + location)).json()) as { done: boolean; response?: { imported: string } },
        { timeout: 5000 },
      )
      .toMatchObject({
        done: true,
        response: { "@type": "type.googleapis.com/bookstore.v1.ImportBooksResponse", imported: "2" },
      });
    const titles = (await (await fetch(`${base}/v1/shelves/2/titles`)).json()) as string[];
    expect(titles).toEqual(expect.arrayContaining(["Imported One", "Imported Two"]));
  });

  it("should report a failed command as the operation's error", async () => {
    const res = await fetch(`${base}/v1/shelves/99/books:import`, {
      method: "POST",
      body: '{"books":[{"title":"x"}]}',
    });
    const location = res.headers.get("location")!;
    await expect
      .poll(async () => (await fetch(base + location)).json(), { timeout: 5000 })
      .toMatchObject({ done: true, error: { code: 5, message: "shelf 99 not found" } });
  });
});

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { streamOperation, wantsOperationStream } from "../../src/server/streaming/operation-stream.js";
import type { Operation } from "../../src/upstream/amqp/operations.js";
import { raw } from "./http.js";

// Operations as streams (issue #14 item 8): GET /v1/operations/{id} with Accept SSE or NDJSON. The
// store is read through `get` (Memory or Redis store): here a scripted sequence of its answers.

const op = (progress: unknown, done = false, extra: Partial<Operation> = {}): Operation => ({
  name: "operations/1",
  done,
  metadata: {
    "@type": "type.googleapis.com/protogate.v1.CommandMetadata",
    value: { method: "m", createTime: "t", progress },
  },
  owner: "never shown",
  ...extra,
});

let server: Server | undefined;
afterEach(() => server?.close());

/** A server whose one endpoint streams the operations `answers` gives, one per poll. */
async function serve(
  first: Operation,
  answers: Array<Operation | undefined | Error>,
): Promise<{ url: string; polls: () => number }> {
  let polls = 0;
  server = createServer((req, res) => {
    streamOperation(
      req,
      res,
      first,
      async () => {
        const a = answers[Math.min(polls++, answers.length - 1)];
        if (a instanceof Error) throw a;
        return a;
      },
      {},
      1,
    );
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, polls: () => polls };
}

const json = (o: Operation): string => {
  const { owner: _o, ...rest } = o;
  return JSON.stringify(rest);
};

describe("operations as streams", () => {
  it("should stream each change of progress, then the result, then the end record (SSE)", async () => {
    const a = op(undefined);
    const b = op({ percent: 50 });
    const c = op({ percent: 100 }, true, { response: { "@type": "type.googleapis.com/x.Y", ok: true } });
    const { url } = await serve(a, [a, b, b, c]);
    const res = await raw(url, "GET", "/", { accept: "text/event-stream" });
    expect(res.headers["content-type"]).toBe("text/event-stream");
    expect(res.text).toBe(
      `id: 1\ndata: ${json(a)}\n\nid: 2\ndata: ${json(b)}\n\nid: 3\ndata: ${json(c)}\n\nevent: end\ndata: {"trailers":{}}\n\n`,
    );
    expect(res.text).not.toMatch(/never shown/);
  });

  it("should end with a NOT_FOUND error record when the operation expires (NDJSON)", async () => {
    const a = op(undefined);
    const { url } = await serve(a, [undefined]);
    const res = await raw(url, "GET", "/", { accept: "application/x-ndjson" });
    expect(res.text).toBe(
      `${json(a)}\n{"error":{"code":5,"message":"the operation expired","details":[]}}\n`,
    );
  });

  it("should end with UNAVAILABLE when the store fails", async () => {
    const { url } = await serve(op(undefined), [new Error("redis down")]);
    const res = await raw(url, "GET", "/", { accept: "application/x-ndjson" });
    expect(res.text.trimEnd().split("\n").at(-1)).toBe(
      '{"error":{"code":14,"message":"the operation store is unavailable: redis down","details":[]}}',
    );
  });

  it("should stop polling when the client goes away", async () => {
    const a = op(undefined);
    const { url, polls } = await serve(a, [a]);
    const { request } = await import("node:http");
    await new Promise<void>((resolve) => {
      const req = request(url, { headers: { accept: "text/event-stream" } }, (res) =>
        res.once("data", () => {
          req.destroy();
          resolve();
        }),
      );
      req.end();
    });
    await vi.waitFor(() => {
      const n = polls();
      return new Promise<void>((r, j) =>
        setTimeout(() => (polls() === n ? r() : j(new Error("still polling"))), 50),
      );
    });
  });

  it.each([
    ["text/event-stream", true],
    ["application/x-ndjson", true],
    ["application/json", false],
    [undefined, false],
    ["*/*", false],
  ])("should stream for Accept %s: %s", (accept, expected) => {
    expect(wantsOperationStream(accept)).toBe(expected);
  });
});

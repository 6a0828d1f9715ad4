import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../src/server/gateway.js";
import { raw, streamGateway } from "./http.js";
import { type StreamServer, startStreamServer } from "./server.js";

// Client streaming and NDJSON both ways (issue #14 items 5 and 6).

let backend: StreamServer;
let gateway: Gateway;
let url: string;

beforeAll(async () => {
  backend = await startStreamServer();
  ({ gateway, url } = await streamGateway(backend.address, {
    Upload: { stream: { maxMessages: 3, maxMessageBytes: 64 } },
  }));
});
afterAll(async () => {
  await gateway.close();
  await backend.close();
});

const NDJSON = { "content-type": "application/x-ndjson" };

describe("client streaming", () => {
  it.each([
    ["NDJSON", NDJSON, '{"name":"a"}\n\n{"name":"b","qty":2}\r\n{"name":"c"}'],
    [
      "a JSON array",
      { "content-type": "application/json" },
      '[{"name":"a"},{"name":"b","qty":2},{"name":"c"}]',
    ],
  ])("should send each message of %s and answer the single response", async (_n, headers, body) => {
    const res = await raw(url, "POST", "/v1/items:upload", headers, body);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(res.text)).toEqual({ count: 3, names: ["a", "b", "c"] });
  });

  it("should answer an empty body with zero messages", async () => {
    const res = await raw(url, "POST", "/v1/items:upload", NDJSON, "");
    expect(JSON.parse(res.text)).toEqual({}); // proto3 JSON leaves out zero values
  });

  it.each([
    ["a bad line in the middle", '{"name":"a"}\n{"name":\n{"name":"c"}\n', 400, 3],
    ["a field the message lacks", '{"name":"a"}\n{"nope":1}\n', 400, 3],
    ["more messages than maxMessages", '{"name":"a"}\n{}\n{}\n{}\n', 429, 8],
    ["a message over maxMessageBytes", `{"name":"${"x".repeat(100)}"}\n`, 429, 8],
  ])("should cancel the call on %s", async (_n, body, status, code) => {
    const res = await raw(url, "POST", "/v1/items:upload", NDJSON, body);
    expect(res.status).toBe(status);
    expect(JSON.parse(res.text)).toMatchObject({ code });
  });
});

describe("bidi streaming as NDJSON both ways", () => {
  it("should answer each message as it arrives, before the request body ends", async () => {
    const lines: string[] = [];
    const done = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(url + "/v1/chat", { method: "POST", headers: NDJSON }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
          const got = text.split("\n").filter(Boolean);
          // each answer comes back while the request is still open: then send the next message
          if (got.length === 1 && lines.length === 1) send('{"name":"two"}\n');
          if (got.length === 2 && lines.length === 2) req.end();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on("error", reject);
      const send = (line: string): void => {
        lines.push(line);
        req.write(line);
      };
      send('{"name":"one","qty":1}\n');
    });
    const res = await done;
    expect(res.status).toBe(200);
    expect(res.text).toBe(
      '{"name":"re: one","qty":2}\n{"name":"re: two","qty":1}\n{"end":{"trailers":{}}}\n',
    );
  });

  it("should end with an error record when a bad line comes after an answer", async () => {
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(url + "/v1/chat", { method: "POST", headers: NDJSON }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (text === "") req.end("not json\n");
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on("error", reject);
      req.write('{"name":"one"}\n');
    });
    expect(res.status).toBe(200);
    const [first, last] = res.text.trimEnd().split("\n");
    expect(JSON.parse(first!)).toEqual({ name: "re: one", qty: 1 });
    expect(JSON.parse(last!)).toMatchObject({ error: { code: 3 } });
  });
});

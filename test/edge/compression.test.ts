import { request } from "node:http";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EchoServer, startEchoServer } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

/** Answers compressed by Accept-Encoding from a size threshold (issue #19 point 3). */
let backend: EchoServer;
const gateways: RunningGateway[] = [];
beforeAll(async () => {
  backend = await startEchoServer();
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await backend?.close();
});

async function gateway(options: Parameters<typeof startGateway>[0]): Promise<RunningGateway> {
  const gw = await startGateway({ backend: backend.address, ...options });
  gateways.push(gw);
  return gw;
}

interface Raw {
  status: number;
  encoding: string | undefined;
  vary: string | undefined;
  json: unknown;
}

/** POST /v1/echo with `s` of `size` characters; the body decoded by hand from its Content-Encoding. */
function echo(url: string, size: number, acceptEncoding?: string): Promise<Raw> {
  const body = JSON.stringify({ s: "a".repeat(size) });
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/v1/echo`,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(acceptEncoding ? { "accept-encoding": acceptEncoding } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const bytes = Buffer.concat(chunks);
          const encoding = res.headers["content-encoding"];
          const plain =
            encoding === "gzip" ? gunzipSync(bytes) : encoding === "br" ? brotliDecompressSync(bytes) : bytes;
          resolve({
            status: res.statusCode ?? 0,
            encoding,
            vary: res.headers.vary,
            json: JSON.parse(plain.toString()),
          });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("compression", () => {
  const cases: Array<
    [
      string,
      { threshold?: number; encodings?: ("br" | "gzip")[] } | undefined,
      number,
      string | undefined,
      string | undefined,
    ]
  > = [
    ["gzip when asked for it", {}, 4000, "gzip", "gzip"],
    ["br, preferred by default", {}, 4000, "gzip, deflate, br", "br"],
    ["the configured order", { encodings: ["gzip", "br"] }, 4000, "br, gzip", "gzip"],
    ["nothing below the threshold", {}, 100, "gzip, br", undefined],
    ["from a lowered threshold", { threshold: 50 }, 100, "gzip", "gzip"],
    ["nothing when the client asks for none", {}, 4000, undefined, undefined],
    ["nothing the client cannot read", { encodings: ["br"] }, 4000, "gzip", undefined],
    ["nothing when compression is off", undefined, 4000, "gzip, br", undefined],
  ];
  it.each(cases)("should send %s", async (_name, config, size, accept, expected) => {
    const gw = await gateway(config ? { compression: config } : {});
    const res = await echo(gw.url, size, accept);
    expect(res.status).toBe(200);
    expect(res.encoding).toBe(expected);
    if (expected) expect(res.vary).toMatch(/accept-encoding/i);
    expect(res.json).toMatchObject({ s: "a".repeat(size) });
  });
});

import { request } from "node:http";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { scriptedGateway } from "./fixture.js";

const GET = "test.v1.EchoService.EchoGet";

describe("cache with compression: compressed forms made once per answer and encoding", () => {
  const f = scriptedGateway({
    compression: { threshold: 1 },
    methodSettings: { [GET]: { cache: { ttlMs: 60_000 } } },
  });

  /** The raw answer (fetch would decompress it). */
  const raw = (path: string, headers: Record<string, string>) =>
    new Promise<{ status: number; headers: Record<string, unknown>; bytes: Buffer }>((resolve, reject) => {
      const req = request(f.gw.url + path, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode!, headers: res.headers, bytes: Buffer.concat(chunks) }),
        );
      });
      req.on("error", reject);
      req.end();
    });
  const forms = async () =>
    ((await f.gw.call("GET", "/_protogate/status")).body as { compression: { storedForms: number } })
      .compression.storedForms;

  it("serves hits in the accepted encoding from the stored form, without compressing again", async () => {
    const plain = await raw("/v1/echo/zipped?rs=a&rs=b", {});
    expect(plain.headers["content-encoding"]).toBeUndefined();
    const before = await forms();
    const gz = [];
    for (let i = 0; i < 5; i++)
      gz.push(await raw("/v1/echo/zipped?rs=a&rs=b", { "accept-encoding": "gzip" }));
    for (const r of gz) {
      expect(r.headers["cache-status"]).toMatch(/; hit;/);
      expect(r.headers["content-encoding"]).toBe("gzip");
      expect(r.headers.vary).toMatch(/accept-encoding/);
      expect(r.headers.etag).toBe(plain.headers.etag);
      expect(gunzipSync(r.bytes).toString()).toBe(plain.bytes.toString());
      expect(r.bytes.equals(gz[0]!.bytes)).toBe(true);
    }
    expect(await forms()).toBe(before + 1); // one gzip form for five hits
    const br = [
      await raw("/v1/echo/zipped?rs=a&rs=b", { "accept-encoding": "br, gzip" }),
      await raw("/v1/echo/zipped?rs=a&rs=b", { "accept-encoding": "gzip;q=0.5, br" }),
    ];
    for (const r of br) {
      expect(r.headers["content-encoding"]).toBe("br");
      expect(brotliDecompressSync(r.bytes).toString()).toBe(plain.bytes.toString());
    }
    expect(await forms()).toBe(before + 2);
    expect(f.backend.calls).toHaveLength(1);
  });

  it("answers If-None-Match with 304 before choosing an encoding", async () => {
    const first = await raw("/v1/echo/zipped-304", { "accept-encoding": "gzip" });
    const again = await raw("/v1/echo/zipped-304", {
      "accept-encoding": "gzip",
      "if-none-match": String(first.headers.etag),
    });
    expect(again.status).toBe(304);
    expect(again.bytes.length).toBe(0);
  });
});

import * as http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { frameOf, h2Server, okAnswer } from "../upstream/servers.js";

// Issue #20 point 8, end to end: a backend that ends its connection with GOAWAY(COMPRESSION_ERROR)
// and leaves the socket open. Before, the HTTP request hung until the route's timeout (30 s here,
// longer than this test may take).

let backend: Awaited<ReturnType<typeof h2Server>>;
let gw: RunningGateway;
let goaways = 0;

beforeAll(async () => {
  backend = await h2Server((s, headers) => {
    if (headers["x-goaway"] !== undefined) {
      goaways++;
      s.session?.goaway(http2.constants.NGHTTP2_COMPRESSION_ERROR, s.id!);
      return; // and never answers, never closes
    }
    // SleepResponse { cancelled: true }: field 1, varint 1
    okAnswer(s, [frameOf(Buffer.from([0x08, 0x01]))]);
  });
  // retries off: this is about the connection, not about repeating the call elsewhere
  gw = await startGateway({
    backend: `127.0.0.1:${backend.port}`,
    routeDefaults: { retry: { attempts: 1 } },
  });
});
afterAll(async () => {
  await gw?.close();
  backend?.server.close();
});

describe("a backend's GOAWAY with an error code", () => {
  it("answers 503 UNAVAILABLE at once, and the next request gets a new connection", async () => {
    const res = await gw.call("GET", "/v1/sleep/1", { headers: { "grpc-metadata-x-goaway": "1" } });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({
      code: 14,
      message: expect.stringContaining("GOAWAY COMPRESSION_ERROR"),
    });
    expect(goaways).toBe(1);
    const next = await gw.call("GET", "/v1/sleep/1");
    expect(next.status).toBe(200);
    expect(next.body).toEqual({ cancelled: true });
    expect(backend.connections()).toBe(2);
  });
});

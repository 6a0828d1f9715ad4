import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EchoServer, startEchoServer } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { parseExposition, sampleValue } from "../observability/exposition.js";

let backend: EchoServer;
let gw: RunningGateway;

beforeAll(async () => {
  backend = await startEchoServer();
  gw = await startGateway({ backend: backend.address });
});
afterAll(async () => {
  await gw?.close();
  await backend?.close();
});

describe("gRPC status -> HTTP status (the one table)", () => {
  const table: Array<[number, string, number]> = [
    [1, "CANCELLED", 499],
    [2, "UNKNOWN", 500],
    [3, "INVALID_ARGUMENT", 400],
    [4, "DEADLINE_EXCEEDED", 504],
    [5, "NOT_FOUND", 404],
    [6, "ALREADY_EXISTS", 409],
    [7, "PERMISSION_DENIED", 403],
    [8, "RESOURCE_EXHAUSTED", 429],
    [9, "FAILED_PRECONDITION", 400],
    [10, "ABORTED", 409],
    [11, "OUT_OF_RANGE", 400],
    [12, "UNIMPLEMENTED", 501],
    [13, "INTERNAL", 500],
    [14, "UNAVAILABLE", 503],
    [15, "DATA_LOSS", 500],
    [16, "UNAUTHENTICATED", 401],
  ];
  it.each(table)("code %i %s -> %i", async (code, _name, http) => {
    const res = await gw.call("POST", "/v1/fail", { body: JSON.stringify({ code, message: `m${code}` }) });
    expect(res.status).toBe(http);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.body).toEqual({ code, message: `m${code}`, details: [] });
  });

  it("should decode details from grpc-status-details-bin and forward trailers", async () => {
    const res = await gw.call("POST", "/v1/fail", {
      body: JSON.stringify({ code: 9, message: "no", reason: "OUT_OF_STOCK" }),
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      code: 9,
      message: "no",
      details: [
        { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "OUT_OF_STOCK", domain: "test" },
      ],
    });
    expect(res.headers.get("grpc-trailer-x-trailer")).toBe("t1");
    expect(res.headers.has("grpc-trailer-grpc-status-details-bin")).toBe(false);
  });
});

/** Sends raw header lines (repeated names stay separate lines) and parses the JSON answer. */
function rawGet(
  path: string,
  headers: Array<[string, string]>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: unknown }> {
  const url = new URL(gw.url + path);
  return new Promise((resolve, reject) => {
    const raw = [["Host", url.host], ...headers].flat();
    const req = httpRequest(
      { host: url.hostname, port: url.port, path, method: "GET", headers: raw },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("metadata", () => {
  it("should forward Grpc-Metadata-*, Authorization and X-Forwarded-*, and drop what must not pass", async () => {
    const res = await rawGet("/v1/metadata", [
      ["Grpc-Metadata-Tenant", "acme"],
      ["Grpc-Metadata-Multi", "one"],
      ["Grpc-Metadata-Multi", "two"],
      ["Grpc-Metadata-Trace-Bin", Buffer.from([0xde, 0xad]).toString("base64")],
      ["Grpc-Metadata-Connection", "keep"],
      ["Grpc-Metadata-Grpc-Timeout", "1S"],
      ["Grpc-Metadata-Bad$Key", "x"],
      ["Grpc-Metadata-Latin", "caf\u00e9"],
      ["Authorization", "Bearer token-1"],
      ["X-Forwarded-For", "203.0.113.9"],
      ["Cookie", "secret=1"],
    ]);
    expect(res.status).toBe(200);
    const received = (res.body as { received: Record<string, string> }).received;
    expect(received.tenant).toBe("acme");
    expect(received.multi).toBe("one, two");
    expect(received["trace-bin"]).toBe(Buffer.from([0xde, 0xad]).toString("base64"));
    expect(received.authorization).toBe("Bearer token-1");
    expect(received["x-forwarded-for"]).toBe("203.0.113.9, 127.0.0.1");
    expect(received["x-forwarded-host"]).toBe(new URL(gw.url).host);
    for (const dropped of [
      "connection",
      "grpc-timeout",
      "bad$key",
      "latin",
      "cookie",
      "grpc-metadata-tenant",
    ]) {
      expect(received).not.toHaveProperty(dropped);
    }
  });

  it("should return header metadata as Grpc-Metadata-* and trailers as Grpc-Trailer-*", async () => {
    const res = await rawGet("/v1/metadata", []);
    expect(res.headers["grpc-metadata-x-header"]).toBe("h1");
    expect(res.headers["grpc-metadata-x-multi"]).toBe("a, b");
    expect(res.headers["grpc-metadata-x-data-bin"]).toBe(Buffer.from([1, 2, 3]).toString("base64"));
    expect(res.headers["grpc-trailer-x-trailer"]).toBe("t1");
    expect(res.headers).not.toHaveProperty("grpc-metadata-content-type");
    expect(res.headers).not.toHaveProperty("grpc-trailer-grpc-status");
  });
});

describe("deadlines", () => {
  it("should answer 504 when Grpc-Timeout expires, and cancel the backend's call", async () => {
    const res = await gw.call("GET", "/v1/sleep/2000", { headers: { "grpc-timeout": "100m" } });
    expect(res.status).toBe(504);
    expect(res.body).toMatchObject({ code: 4 });
    await expect.poll(() => backend.calls.some((c) => c.method === "Sleep:cancelled")).toBe(true);
  });

  it("should succeed within the deadline", async () => {
    const res = await gw.call("GET", "/v1/sleep/10", { headers: { "grpc-timeout": "5S" } });
    expect(res.status).toBe(200);
  });

  it.each(["abc", "10", "123456789S", "1.5S", "10s"])(
    "should answer 400 for Grpc-Timeout %j",
    async (value) => {
      const res = await gw.call("GET", "/v1/sleep/1", { headers: { "grpc-timeout": value } });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 3, message: expect.stringContaining("Grpc-Timeout") });
    },
  );

  it("should apply the route's default timeout", async () => {
    const short = await startGateway({
      backend: backend.address,
      methodSettings: { "test.v1.EchoService.Sleep": { timeoutMs: 100 } },
    });
    try {
      const res = await short.call("GET", "/v1/sleep/2000");
      expect(res.status).toBe(504);
    } finally {
      await short.close();
    }
  });

  it("should cancel the backend call when the client goes away", async () => {
    const before = backend.calls.filter((c) => c.method === "Sleep:cancelled").length;
    const url = new URL(gw.url);
    const req = httpRequest({ host: url.hostname, port: url.port, path: "/v1/sleep/3000" });
    req.on("error", () => undefined);
    req.end();
    await expect
      .poll(() => backend.calls.some((c) => c.method === "Sleep" && c.request.ms === 3000))
      .toBe(true);
    req.destroy();
    await expect
      .poll(() => backend.calls.filter((c) => c.method === "Sleep:cancelled").length)
      .toBe(before + 1);
  });
});

describe("backend faults", () => {
  it("should answer 503 when the backend is down", async () => {
    const down = await startGateway({ backend: "127.0.0.1:1" });
    try {
      const res = await down.call("GET", "/v1/echo/x", { headers: { "grpc-timeout": "3S" } });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ code: 14 });
    } finally {
      await down.close();
    }
  });

  it("should answer 503 when no backend is configured for the service", async () => {
    const none = await startGateway({});
    try {
      const res = await none.call("GET", "/v1/echo/x");
      expect(res.status).toBe(503);
      expect(res.body).toEqual({
        code: 14,
        message: expect.stringMatching(/^the service is unavailable, try again later \(request [\w-]+\)$/), // what is missing goes to the log (#21.6)
        details: [],
      });
    } finally {
      await none.close();
    }
  });

  it("should not retry a method that has no backend: one attempt", async () => {
    const none = await startGateway({});
    const attempts = async () =>
      sampleValue(
        parseExposition((await none.call("GET", "/metrics")).text),
        "protogate_upstream_request_duration_seconds_count",
        { protocol: "none", rpc_method: "test.v1.EchoService/EchoGet", outcome: "UNAVAILABLE" },
      ) ?? 0;
    try {
      const before = await attempts();
      const res = await none.call("GET", "/v1/echo/x"); // GET: idempotent, UNAVAILABLE: retryable
      expect(res.status).toBe(503);
      expect((await attempts()) - before).toBe(1);
    } finally {
      await none.close();
    }
  });

  it("should route a service to its own backend", async () => {
    const other = await startEchoServer();
    const split = await startGateway({
      backend: "127.0.0.1:1",
      backends: { "test.v1.EchoService": other.address },
    });
    try {
      expect((await split.call("GET", "/v1/echo/x")).status).toBe(200);
      expect(other.last().request).toMatchObject({ s: "x" });
    } finally {
      await split.close();
      await other.close();
    }
  });
});

describe("size limits", () => {
  it("should answer 413 as a google.rpc.Status for a body over the limit", async () => {
    const small = await startGateway({ backend: backend.address, bodyLimit: 64 });
    try {
      const res = await small.call("POST", "/v1/echo", { body: JSON.stringify({ s: "x".repeat(100) }) });
      expect(res.status).toBe(413);
      expect(res.body).toEqual({
        code: 8,
        message: "request body is larger than the configured limit",
        details: [],
      });
      expect((await small.call("POST", "/v1/echo", { body: '{"s":"ok"}' })).status).toBe(200);
    } finally {
      await small.close();
    }
  });
});

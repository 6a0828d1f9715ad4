import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redactQuery } from "../../src/observability/access-log.js";
import { type EchoServer, startEchoServer, TEST_PROTOS } from "../helpers/echo-server.js";
import { type Spawned, serveLogging } from "../helpers/process.js";

/**
 * The access log as an operator reads it: `protogate serve` in a child process, its stdout parsed line
 * by line (pino JSON). One line per request with the fields of issue #18, no secrets.
 */
let backend: EchoServer;
let gw: Spawned;
let url: string;
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";

beforeAll(async () => {
  backend = await startEchoServer();
  gw = serveLogging(TEST_PROTOS, backend.address);
  url = await gw.url;
});
afterAll(async () => {
  await gw?.stop();
  await backend?.close();
});

type Line = Record<string, unknown>;

/** The access log lines printed so far (msg "request"). */
function accessLines(): Line[] {
  return gw
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Line)
    .filter((l) => l.msg === "request");
}

/** Waits for the access line of a request id (lines are written after the response). */
async function lineOf(reqId: string): Promise<Line> {
  for (let i = 0; i < 200; i++) {
    const found = accessLines().find((l) => l.reqId === reqId);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no access log line for ${reqId}:\n${gw.output()}`);
}

describe("access log", () => {
  it("should log a success with route, redacted query, trace id, backend, durations and sizes", async () => {
    const res = await fetch(`${url}/v1/echo/hello?token=s3cr3t&x=1`, {
      headers: {
        "x-request-id": "req-ok",
        authorization: "Bearer very-secret-token",
        cookie: "session=cookie-secret",
        traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`,
      },
    });
    expect(res.status).toBe(200);
    const body = await res.text();
    const line = await lineOf("req-ok");
    expect(line).toMatchObject({
      level: 30,
      msg: "request",
      reqId: "req-ok",
      traceId: TRACE_ID,
      client: "127.0.0.1",
      method: "GET",
      route: "/v1/echo/{s}",
      path: "/v1/echo/hello?token=***&x=***",
      status: 200,
      grpcCode: "OK",
      outcome: "OK",
      backend: backend.address,
      attempts: 1,
      bytesIn: 0,
      bytesOut: Buffer.byteLength(body),
    });
    expect(typeof line.time).toBe("number");
    expect(line.durationMs).toBeGreaterThan(0);
    expect(line.upstreamMs).toBeGreaterThan(0);
    expect(line.upstreamMs as number).toBeLessThanOrEqual(line.durationMs as number);
    expect(line.flags).toBeUndefined();
  });

  it("should log a backend error with its gRPC code", async () => {
    const body = '{"code":14,"message":"down"}';
    const res = await fetch(`${url}/v1/fail`, {
      method: "POST",
      body,
      headers: { "x-request-id": "req-fail" },
    });
    expect(res.status).toBe(503);
    expect(await lineOf("req-fail")).toMatchObject({
      route: "/v1/fail",
      status: 503,
      grpcCode: "UNAVAILABLE",
      outcome: "UNAVAILABLE",
      backend: backend.address,
      attempts: 1,
      bytesIn: body.length,
    });
  });

  it("should log a 404 under _unmatched, without upstream fields", async () => {
    const res = await fetch(`${url}/no/such/thing?k=v`, { headers: { "x-request-id": "req-404" } });
    expect(res.status).toBe(404);
    const line = await lineOf("req-404");
    expect(line).toMatchObject({
      route: "_unmatched",
      path: "/no/such/thing?k=***",
      status: 404,
      grpcCode: "NOT_FOUND",
    });
    expect(line).not.toHaveProperty("backend");
    expect(line).not.toHaveProperty("attempts");
    expect(line).not.toHaveProperty("traceId"); // none sent, tracing off
  });

  it("should log a client that went away, with the flag", async () => {
    await new Promise<void>((resolve) => {
      const req = request(`${url}/v1/sleep/2000`, { headers: { "x-request-id": "req-gone" } });
      req.on("error", () => resolve());
      req.end();
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 300);
    });
    const line = await lineOf("req-gone");
    expect(line).toMatchObject({
      route: "/v1/sleep/{ms}",
      flags: ["client_disconnected"],
      grpcCode: "CANCELLED",
    });
  });

  it("should never print Authorization, cookies or query values", () => {
    const out = gw.output();
    for (const secret of ["very-secret-token", "cookie-secret", "s3cr3t"]) expect(out).not.toContain(secret);
  });
});

describe("redactQuery()", () => {
  it.each([
    ["/a", "/a"],
    ["/a?", "/a?"],
    ["/a?x=1", "/a?x=***"],
    ["/a?x=1&y=&z", "/a?x=***&y=***&z"],
    ["/a?access_token=abc&b.c=d%20e", "/a?access_token=***&b.c=***"],
  ])("%s -> %s", (input, expected) => {
    expect(redactQuery(input)).toBe(expected);
  });
});

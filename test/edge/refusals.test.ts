import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EchoServer, startEchoServer } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { exchange, hostPort, responses } from "./raw.js";

/**
 * What Node refuses before any route runs, over a raw socket: every refusal is a google.rpc.Status,
 * and answers owed to earlier pipelined requests are not lost (issue #20 points 9-11).
 */
let backend: EchoServer;
let gw: RunningGateway;
beforeAll(async () => {
  backend = await startEchoServer();
  gw = await startGateway({ backend: backend.address, headersTimeoutMs: 300, requestTimeoutMs: 600 });
});
afterAll(async () => {
  await gw?.close();
  await backend?.close();
});

const status = (code: number) => ({ code, message: expect.any(String), details: [] });

describe("connection cap", () => {
  it("should close connections over server.maxConnections and take new ones once below", async () => {
    const capped = await startGateway({ backend: backend.address, maxConnections: 1 });
    try {
      const first = connect(hostPort(capped.url));
      // A full answer on it: the server has surely counted this connection.
      first.write("GET /v1/echo/x HTTP/1.1\r\nHost: gw\r\n\r\n");
      await new Promise((r) => first.once("data", r));
      // Node closes the second connection at once, without reading it.
      const refused = exchange(capped.url, ["GET /v1/echo/x HTTP/1.1\r\nHost: gw\r\n\r\n"]);
      expect(await refused.catch(() => "")).toBe("");
      first.destroy();
      let answer = "";
      while (!answer.startsWith("HTTP/1.1 200"))
        answer = await exchange(capped.url, [
          "GET /v1/echo/x HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n",
        ]);
      expect(answer).toContain('"s":"x"');
    } finally {
      await capped.close();
    }
  });
});

describe("pipelined requests", () => {
  it("should answer a valid request before the 400 of a malformed one that follows it", async () => {
    const raw = await exchange(gw.url, [
      "GET /v1/sleep/50 HTTP/1.1\r\nHost: gw\r\n\r\nGET /v1/echo/x HTTP/1.1\r\nHost: gw\r\n\r\nBAD STUFF\r\n\r\n",
    ]);
    const answers = responses(raw);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 400]);
    expect(JSON.parse(answers[1]!.body)).toMatchObject({ s: "x" });
    expect(JSON.parse(answers[2]!.body)).toEqual(status(3));
  });
});

describe("refusals Node makes", () => {
  const cases: Array<[string, string[], number, number]> = [
    ["a request without Host", ["GET /v1/echo/x HTTP/1.1\r\n\r\n"], 400, 3],
    [
      "an Expect other than 100-continue",
      ["GET /v1/echo/x HTTP/1.1\r\nHost: gw\r\nExpect: magic\r\n\r\n"],
      417,
      9,
    ],
    ["a malformed request line", ["NOT HTTP\r\n\r\n"], 400, 3],
    ["headers that never end (headersTimeout)", ["GET /v1/echo/x HTTP/1.1\r\nHost: gw\r\n"], 408, 4],
    [
      "a body that never ends (requestTimeout)",
      [
        "POST /v1/echo HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
      ],
      408,
      4,
    ],
  ];
  it.each(cases)("should answer %s with a Status body", async (_name, chunks, http, code) => {
    const [answer, ...more] = responses(await exchange(gw.url, chunks));
    expect(more).toEqual([]);
    expect(answer?.status).toBe(http);
    expect(answer?.headers).toMatch(/content-type: application\/json/i);
    expect(JSON.parse(answer!.body)).toEqual(status(code));
  });

  it("should cut a body that trickles in (the request's whole time is bounded, not its idle time)", async () => {
    const head =
      "POST /v1/echo HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n";
    // 200 bytes at one per 20 ms: the connection is never idle, yet it is over the 600 ms request timeout.
    const [answer] = responses(
      await exchange(gw.url, [head, ...'{"s":"'.concat("a".repeat(193)).split("")], 20),
    );
    expect(answer?.status).toBe(408);
    expect(JSON.parse(answer!.body)).toEqual(status(4));
  });

  it("should still pass Expect: 100-continue", async () => {
    const body = '{"s":"y"}';
    const raw = await exchange(gw.url, [
      `POST /v1/echo HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`,
      body,
    ]);
    expect(raw).toMatch(/^HTTP\/1.1 100 Continue\r\n\r\nHTTP\/1.1 200 /);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EchoServer, startEchoServer } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// Issue #20 point 7: a client's Grpc-Timeout can shorten the route's deadline, never remove or stretch it.
// The backend is grpc-js; /v1/sleep/{ms} with a huge ms hangs until the call is cancelled.

const ROUTE_TIMEOUT_MS = 300;
const HANG = "/v1/sleep/100000000";

let backend: EchoServer;
let gw: RunningGateway;

beforeAll(async () => {
  backend = await startEchoServer();
  gw = await startGateway({ backend: backend.address, routeDefaults: { timeoutMs: ROUTE_TIMEOUT_MS } });
});
afterAll(async () => {
  await gw?.close();
  await backend?.close();
});

const sleepCalls = () => backend.calls.filter((c) => c.method === "Sleep");
const sleeps = () => sleepCalls().length;
const lastDeadline = () => sleepCalls().at(-1)!.deadline!;

describe("Grpc-Timeout of zero", () => {
  it.each(["0S", "0n", "0m", "0H"])("%s answers 504 without calling the backend", async (value) => {
    const before = sleeps();
    const res = await gw.call("GET", HANG, { headers: { "grpc-timeout": value } });
    expect(res.status).toBe(504);
    expect(res.body).toMatchObject({ code: 4, message: expect.stringContaining("Grpc-Timeout") });
    // a call that reached the backend would be recorded before its answer: a later one proves none came
    expect((await gw.call("GET", "/v1/sleep/1")).status).toBe(200);
    expect(sleeps()).toBe(before + 1);
  });

  it("is expired on a route without a timeout too", async () => {
    const untimed = await startGateway({ backend: backend.address, routeDefaults: { timeoutMs: 0 } });
    try {
      const before = sleeps();
      const res = await untimed.call("GET", HANG, { headers: { "grpc-timeout": "0S" } });
      expect(res.status).toBe(504);
      expect(sleeps()).toBe(before);
    } finally {
      await untimed.close();
    }
  });
});

// (A Grpc-Timeout shorter than the route's wins: test/e2e/upstream.test.ts, "deadlines".)
describe("a Grpc-Timeout past the route's timeout", () => {
  it.each(["99999999H", "100000S", "1M"])(
    "%s is capped by the route's timeout (the backend's deadline and the 504)",
    async (value) => {
      const before = sleeps();
      const sentAt = Date.now();
      const answer = gw.call("GET", HANG, { headers: { "grpc-timeout": value } });
      await expect.poll(sleeps).toBe(before + 1);
      // The deadline the backend got is the route's (300 ms), not the client's (a minute at least); the
      // bound leaves room for a loaded machine between our clock read and the backend's.
      expect(lastDeadline() - sentAt).toBeLessThan(10_000);
      const res = await answer;
      expect(res.status).toBe(504);
      expect(res.body).toMatchObject({ code: 4 });
    },
  );
});

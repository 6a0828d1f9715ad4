import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EchoServer, startEchoServer } from "../helpers/echo-server.js";
import { startGateway } from "../helpers/gateway.js";

let backend: EchoServer;
beforeAll(async () => {
  backend = await startEchoServer();
});
afterAll(async () => {
  await backend?.close();
});

describe("graceful shutdown", () => {
  it("should let requests in flight finish, then refuse new ones", async () => {
    // A grace period far beyond the test's timeout: close() must finish because the connection is
    // closed once its response is out, not because the grace period ran out.
    const gw = await startGateway({ backend: backend.address, shutdownGraceMs: 60_000 });
    const inFlight = gw.call("GET", "/v1/sleep/300");
    await expect
      .poll(() => backend.calls.some((c) => c.method === "Sleep" && c.request.ms === 300))
      .toBe(true);
    const closing = gw.close();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    await closing;
    await expect(fetch(`${gw.url}/v1/echo/x`)).rejects.toThrow();
  });

  it("should cut requests that outlive the grace period", async () => {
    const gw = await startGateway({ backend: backend.address, shutdownGraceMs: 100 });
    const inFlight = gw.call("GET", "/v1/sleep/5000").then(
      () => "answered",
      () => "cut",
    );
    await expect
      .poll(() => backend.calls.some((c) => c.method === "Sleep" && c.request.ms === 5000))
      .toBe(true);
    await gw.close();
    expect(await inFlight).toBe("cut"); // not "answered": the 5 s call did not hold the shutdown
    // and the backend is told to stop: the cut connection cancels the gRPC call
    await expect.poll(() => backend.calls.some((c) => c.method === "Sleep:cancelled")).toBe(true);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EchoServer, startEchoServer, TEST_PROTOS } from "../helpers/echo-server.js";
import { childPids, freePort, run } from "../helpers/process.js";

let backend: EchoServer;
beforeAll(async () => {
  backend = await startEchoServer();
});
afterAll(async () => {
  await backend?.close();
});

describe("protogate serve --workers", () => {
  it("should serve from N processes on one port, replace a dead worker, and stop them all", async () => {
    const port = String(await freePort());
    const p = run("node", [
      "bin/protogate.js",
      "serve",
      "--protos",
      TEST_PROTOS,
      "--backend",
      backend.address,
      "--port",
      port,
      "--workers",
      "2",
      "--log-level",
      "warn",
    ]);
    const url = await p.url;
    expect(p.output()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+ \(21 routes, 2 workers\)/);
    await expect.poll(() => childPids(p.child.pid!).length, { timeout: 10_000 }).toBe(2);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => fetch(`${url}/v1/echo/w`).then((r) => r.status)),
    );
    expect(results.every((s) => s === 200)).toBe(true);

    const [first] = childPids(p.child.pid!);
    process.kill(first!, "SIGKILL");
    await expect
      .poll(() => p.output(), { timeout: 5000 })
      .toMatch(/worker \d+ exited \(SIGKILL\); starting another/);
    await expect
      .poll(() => childPids(p.child.pid!).filter((c) => c !== first).length, { timeout: 10_000 })
      .toBe(2);
    // served again once a worker listens (the replacement, or the other one if it was still starting)
    await expect
      .poll(async () => (await fetch(`${url}/v1/echo/again`).catch(() => undefined))?.status, {
        timeout: 10_000,
      })
      .toBe(200);

    const workers = childPids(p.child.pid!);
    expect(await p.stop()).toBe(0);
    for (const w of workers) expect(() => process.kill(w, 0)).toThrow(); // gone
  });

  it("should refuse a bad worker count", async () => {
    const p = run("node", ["bin/protogate.js", "serve", "--workers", "zero"]);
    expect(await p.exited).toBe(2);
    expect(p.output()).toMatch(/--workers: "zero" is not a number of workers/);
  });
});

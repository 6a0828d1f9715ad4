import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EchoServer, startEchoServer, TEST_PROTOS } from "../helpers/echo-server.js";
import { run } from "../helpers/process.js";
import { parseExposition, sampleValue } from "./exposition.js";

/** `serve --workers 2`: whichever worker takes the scrape, /metrics counts the whole group. */
let backend: EchoServer;
beforeAll(async () => {
  backend = await startEchoServer();
});
afterAll(async () => {
  await backend?.close();
});

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describe("metrics with --workers", () => {
  it("should aggregate every worker's metrics in one scrape", { timeout: 60_000 }, async () => {
    const p = run("node", [
      "bin/protogate.js",
      "serve",
      "--protos",
      TEST_PROTOS,
      "--backend",
      backend.address,
      "--port",
      String(await freePort()),
      "--workers",
      "2",
      "--log-level",
      "warn",
    ]);
    try {
      const url = await p.url;
      // new connections each time (no keep-alive), spread over both workers by the cluster's round robin
      const n = 40;
      for (let i = 0; i < n; i++) {
        const res = await fetch(`${url}/v1/echo/w${i}`, { headers: { connection: "close" } });
        expect(res.status).toBe(200);
      }
      for (let scrape = 0; scrape < 4; scrape++) {
        const res = await fetch(`${url}/metrics`, { headers: { connection: "close" } });
        expect(res.status).toBe(200);
        const samples = parseExposition(await res.text());
        expect(
          sampleValue(samples, "protogate_http_server_request_duration_seconds_count", {
            route: "/v1/echo/{s}",
            status: "200",
          }),
        ).toBe(n);
        expect(sampleValue(samples, "protogate_config_generation")).toBe(1); // max, not a sum
      }
      expect(backend.calls.length).toBe(n);
    } finally {
      await p.stop();
    }
  });
});

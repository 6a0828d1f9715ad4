import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { type EchoServer, startEchoServer, TEST_PROTOS } from "../helpers/echo-server.js";
import { freePort, type Spawned } from "../helpers/process.js";
import { skipUnless } from "../helpers/services.js";
import { startHaproxy, startProtogate } from "./cluster.js";

/**
 * Issue #19 point 5: three gateway processes behind a real HAProxy, sharing a Redis rate limit, restarted
 * one after the other under a steady client load. Each restart is the production sequence: SIGTERM
 * (readiness 503, HAProxy takes the server out, the listener closes, requests drain), then a new
 * process on the same port, back in once HAProxy's health check sees it ready.
 */
let backend: EchoServer;
beforeAll(async () => {
  backend = await startEchoServer();
});
afterAll(async () => {
  await backend?.close();
});

const haveHaproxy = await import("node:child_process").then(({ spawnSync }) => {
  const r = spawnSync("haproxy", ["-v"]);
  return r.status === 0;
});
const skip = (await skipUnless("redis", 6379)) || !haveHaproxy;

describe("three instances behind HAProxy", () => {
  it.skipIf(skip)(
    "should survive a rolling restart of all three under load: no failed request, the rate limit held",
    { timeout: 180_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "protogate-haproxy-"));
      const prefix = `protogate:test:${randomUUID()}:`;
      const ports = [await freePort(), await freePort(), await freePort()];
      const config = (port: number): string => {
        const file = join(dir, `g${port}.yaml`);
        writeFileSync(
          file,
          [
            // the delay covers three of HAProxy's checks (100 ms apart) with room to spare
            `server: { port: ${port}, shutdown: { delay: 2s, drainTimeout: 20s } }`,
            `protos: [${JSON.stringify(TEST_PROTOS)}]`,
            `backends: { default: ${JSON.stringify(backend.address)} }`,
            "logLevel: warn",
            "rateLimit:",
            "  store: redis",
            // a busy machine's Redis answers may take longer than the 100 ms default, and a timeout
            // lets the request through (onStoreFailure: open): that is not what this test measures
            `  redis: { url: "redis://127.0.0.1:6379", keyPrefix: "${prefix}", timeout: 5s }`,
            "  default: [{ name: per-key, key: [apiKey], rate: 5, per: 1h }]",
          ].join("\n"),
        );
        return file;
      };
      const gateways: Spawned[] = [];
      onTestFinished(async () => {
        await Promise.all(gateways.map((g) => g.stop()));
      });
      for (const port of ports) gateways.push(startProtogate(config(port)));
      await Promise.all(gateways.map((g) => g.url));
      const lb = await startHaproxy(dir, ports);
      onTestFinished(async () => void (await lb.stop()));
      await expect.poll(() => lb.up(), { timeout: 10_000 }).toBe(3);

      // The load: 4 clients, each request with a fresh API key (never limited), some slow ones in flight
      // across each SIGTERM; and one key used again and again, limited to 5 in total across instances.
      let stop = false;
      const failures: string[] = [];
      let ok = 0;
      const probe = { accepted: 0, limited: 0 };
      const clients = Array.from({ length: 4 }, async (_, c) => {
        for (let i = 0; !stop; i++) {
          const path = c === 0 && i % 10 === 0 ? "/v1/sleep/300" : "/v1/echo/x";
          const key = c === 1 && i % 5 === 0 ? "probe" : randomUUID();
          try {
            const res = await fetch(`${lb.url}${path}`, { headers: { "x-api-key": key } });
            const text = await res.text();
            if (key === "probe" && res.status === 429) probe.limited++;
            else if (res.status !== 200) failures.push(`${path}: ${res.status} ${text.slice(0, 120)}`);
            else if (key === "probe") probe.accepted++;
            else ok++;
          } catch (err) {
            failures.push(`${path}: ${(err as Error).message}`);
          }
        }
      });

      for (let i = 0; i < gateways.length; i++) {
        const old = gateways[i]!;
        old.child.kill("SIGTERM");
        await expect.poll(() => lb.up(), { timeout: 10_000 }).toBe(2);
        expect(await old.exited).toBe(0);
        const next = startProtogate(config(ports[i]!));
        gateways[i] = next;
        await next.url;
        await expect.poll(() => lb.up(), { timeout: 10_000 }).toBe(3);
      }
      stop = true;
      await Promise.all(clients);

      expect(failures).toEqual([]);
      expect(ok).toBeGreaterThan(50);
      // Redis holds the bucket: a new instance does not hand the key 5 more
      expect(probe.accepted).toBe(5);
      expect(probe.limited).toBeGreaterThan(0);
      const status = (await fetch(`${lb.url}/_protogate/status`).then((r) => r.json())) as {
        stores: unknown;
      };
      expect(status.stores).toEqual({ rateLimit: { shared: true } });
    },
  );
});

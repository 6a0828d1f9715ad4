import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { readAuthConfig } from "../../src/policies/auth/config.js";
import { type EchoServer, startEchoServer, TEST_PROTOS } from "../helpers/echo-server.js";
import { startGateway } from "../helpers/gateway.js";
import { run } from "../helpers/process.js";

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

describe("gateway.shutdown() (the SIGTERM sequence)", () => {
  it("should answer not ready first, keep serving through the delay, then drain and refuse", async () => {
    const gw = await startGateway({
      backend: backend.address,
      shutdownDelayMs: 400,
      shutdownGraceMs: 60_000,
    });
    expect((await gw.call("GET", "/_protogate/ready")).status).toBe(200);
    const inFlight = gw.call("GET", "/v1/sleep/600");
    await expect
      .poll(() => backend.calls.some((c) => c.method === "Sleep" && c.request.ms === 600))
      .toBe(true);
    const stopping = gw.gateway.shutdown();
    const ready = await gw.call("GET", "/_protogate/ready");
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ ready: false, shuttingDown: true });
    // the load balancer has not noticed yet: requests during the delay are still served
    expect((await gw.call("GET", "/v1/echo/late")).status).toBe(200);
    expect((await inFlight).status).toBe(200);
    await stopping;
    await expect(fetch(`${gw.url}/v1/echo/x`)).rejects.toThrow();
  });

  it("should tell onShutdown listeners when the listener closes, with the drain deadline", async () => {
    const gw = await startGateway({ backend: backend.address, shutdownDelayMs: 0, shutdownGraceMs: 5000 });
    const told: number[] = [];
    gw.gateway.onShutdown((deadline) => told.push(deadline));
    const before = Date.now();
    await gw.gateway.shutdown();
    expect(told).toHaveLength(1);
    expect(told[0]).toBeGreaterThanOrEqual(before + 5000);
  });
});

describe("gateway.reconfigure()", () => {
  it("should keep the running configuration when the new one has a bad auth provider or a LoadError", async () => {
    const gw = await startGateway({ backend: backend.address });
    onTestFinished(() => gw.close());
    const badAuth = readAuthConfig(
      {
        providers: [
          {
            issuer: "https://x.test",
            audiences: ["api"],
            keys: [{ pem: "not a key" }],
            algorithms: ["RS256"],
          },
        ],
        default: "authenticated",
      },
      "auth",
    );
    const base = {
      protos: [TEST_PROTOS],
      port: 0,
      logLevel: false as const,
      defaultBackend: backend.address,
    };
    expect(await gw.gateway.reconfigure({ ...base, auth: badAuth })).toBe(false);
    expect(await gw.gateway.reconfigure({ ...base, protos: ["/nonexistent/protos"] })).toBe(false);
    expect((await gw.call("GET", "/v1/echo/x")).status).toBe(200);
    expect(gw.gateway.status().generation).toBe(1);
  });
});

/** RS256 keys of two JWT issuers, and tokens they sign. */
async function issuer(name: string) {
  const keys = await generateKeyPair("RS256");
  const iss = `https://${name}.test`;
  return {
    iss,
    pem: await exportSPKI(keys.publicKey),
    token: () =>
      new SignJWT({ sub: "u" })
        .setProtectedHeader({ alg: "RS256" })
        .setIssuer(iss)
        .setAudience("api")
        .setExpirationTime("1h")
        .sign(keys.privateKey),
  };
}

/** A config file for the echo backend with `lines` added. */
function configText(lines: readonly string[]): string {
  return [
    `protos: [${JSON.stringify(TEST_PROTOS)}]`,
    `backends: { default: ${JSON.stringify(backend.address)} }`,
    ...lines,
  ].join("\n");
}

/** `protogate serve --config` on a fresh config file (stopped when the test ends). */
function serveConfig(lines: readonly string[]) {
  const file = join(mkdtempSync(join(tmpdir(), "protogate-life-")), "p.yaml");
  writeFileSync(file, configText(lines));
  const p = run("node", ["bin/protogate.js", "serve", "--config", file, "--no-watch"]);
  onTestFinished(() => void p.stop());
  return { p, file };
}

describe("protogate serve: signals", () => {
  it("should let long requests finish within the drain time on SIGTERM, ready 503 meanwhile", async () => {
    const { p } = serveConfig([
      "server: { port: 0, shutdown: { delay: 300ms, drainTimeout: 20s } }",
      "logLevel: info",
    ]);
    const url = await p.url;
    const long = Promise.all([1500, 2000].map((ms) => fetch(`${url}/v1/sleep/${ms}`).then((r) => r.status)));
    await expect.poll(() => backend.calls.filter((c) => c.request.ms === 2000).length).toBeGreaterThan(0);
    p.child.kill("SIGTERM");
    await expect.poll(() => fetch(`${url}/_protogate/ready`).then((r) => r.status)).toBe(503);
    expect(await long).toEqual([200, 200]);
    expect(await p.exited).toBe(0);
    expect(p.output()).not.toMatch(/cutting/);
  });

  it("should cut what outlives the drain time on SIGTERM and log how many", async () => {
    const { p } = serveConfig([
      "server: { port: 0, shutdown: { delay: 0s, drainTimeout: 300ms } }",
      "logLevel: info",
    ]);
    const url = await p.url;
    const cut = [4001, 4002].map((ms) =>
      fetch(`${url}/v1/sleep/${ms}`).then(
        () => "answered",
        () => "cut",
      ),
    );
    await expect.poll(() => backend.calls.filter((c) => c.request.ms === 4002).length).toBeGreaterThan(0);
    p.child.kill("SIGTERM");
    expect(await Promise.all(cut)).toEqual(["cut", "cut"]);
    expect(await p.exited).toBe(0);
    expect(p.output()).toMatch(/cutting 2 requests in flight/);
  });

  it("should reload the config file on SIGHUP under load: auth provider and rate limit changed, no failed request", async () => {
    const [a, b] = [await issuer("a"), await issuer("b")];
    const config = (iss: typeof a, header: string, limit: string) => [
      "server: { port: 0 }",
      "logLevel: warn",
      "auth:",
      "  default: authenticated",
      `  providers: [{ issuer: "${iss.iss}", audiences: [api], algorithms: [RS256], from: [{ header: ${header} }],`,
      `                keys: [{ pem: ${JSON.stringify(iss.pem)} }] }]`,
      "rateLimit:",
      "  store: memory",
      `  default: [{ name: per-key, key: [apiKey], ${limit} }]`,
    ];
    const { p, file } = serveConfig(config(a, "authorization", "rate: 1000, per: 1s"));
    const url = await p.url;
    const [tokenA, tokenB] = [await a.token(), await b.token()];
    // Clients that carry both issuers' tokens and a fresh API key: accepted before and after the reload.
    let stop = false;
    const statuses = new Map<string, number>();
    const load = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const status = await fetch(`${url}/v1/echo/x`, {
          headers: { authorization: tokenA, "x-b-token": tokenB, "x-api-key": randomUUID() },
        }).then(
          async (r) => {
            await r.arrayBuffer();
            return String(r.status);
          },
          (e: Error) => e.message,
        );
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    });
    const probe = (headers: Record<string, string>) =>
      fetch(`${url}/v1/echo/x`, { headers }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      });
    for (let i = 0; i < 5; i++)
      expect(await probe({ authorization: tokenA, "x-api-key": "probe" })).toBe(200);

    writeFileSync(file, configText(config(b, "x-b-token", "rate: 2, per: 1h")));
    p.child.kill("SIGHUP");
    await expect.poll(() => probe({ authorization: tokenA, "x-api-key": "p2" })).toBe(401);
    expect(await probe({ "x-b-token": tokenB, "x-api-key": "p3" })).toBe(200);
    expect(await probe({ "x-b-token": tokenB, "x-api-key": "p3" })).toBe(200);
    expect(await probe({ "x-b-token": tokenB, "x-api-key": "p3" })).toBe(429);

    // a broken file keeps the running configuration
    writeFileSync(file, "server: { port: [not a port] }");
    p.child.kill("SIGHUP");
    await expect.poll(() => p.output()).toMatch(/running configuration stays/);
    expect(await probe({ "x-b-token": tokenB, "x-api-key": "p4" })).toBe(200);

    stop = true;
    await Promise.all(load);
    expect([...statuses.keys()]).toEqual(["200"]);
    expect(statuses.get("200")).toBeGreaterThan(20);
  });
});
